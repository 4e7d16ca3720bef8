#include "tabpilot/trainer/features.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops.h"

namespace tabpilot {
namespace {

const char* scaling_name(FeatureRecipe::Scaling s) {
  switch (s) {
    case FeatureRecipe::Scaling::kStandard: return "standard";
    case FeatureRecipe::Scaling::kRobust: return "robust";
    default: return "none";
  }
}

// Median and quantiles of a copy (the input is left alone).
float quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0.0f;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Fill, center and 1/scale for values with missing ones removed.
void fit_scaling(const std::vector<float>& present, FeatureRecipe::Scaling scaling, float& fill,
                 float& center, float& inv_scale) {
  fill = quantile(present, 0.5);
  center = 0.0f;
  inv_scale = 1.0f;
  if (present.empty() || scaling == FeatureRecipe::Scaling::kNone) return;
  double sum = 0, sum2 = 0;
  for (float v : present) sum += v;
  double mean = sum / static_cast<double>(present.size());
  for (float v : present) sum2 += (v - mean) * (v - mean);
  double sd = std::sqrt(sum2 / static_cast<double>(present.size()));
  double scale = sd;
  if (scaling == FeatureRecipe::Scaling::kRobust) {
    center = fill;
    scale = quantile(present, 0.75) - quantile(present, 0.25);
    if (!(scale > 1e-12)) scale = sd;
  } else {
    center = static_cast<float>(mean);
  }
  inv_scale = scale > 1e-12 ? static_cast<float>(1.0 / scale) : 1.0f;
}

struct PartInfo {
  DatePart part;
  const char* name;
  float period;  // 0 = not cyclic (scaled numeric)
};
const PartInfo kParts[] = {
    {DatePart::kYear, "year", 0},       {DatePart::kMonth, "month", 12},
    {DatePart::kDay, "day", 31},        {DatePart::kWeekday, "weekday", 7},
    {DatePart::kYearDay, "yearday", 366}, {DatePart::kHour, "hour", 24},
    {DatePart::kMinute, "minute", 60},
};
const PartInfo& part_info(int part) {
  for (const auto& p : kParts)
    if (static_cast<int>(p.part) == part) return p;
  throw std::runtime_error("unknown date part " + std::to_string(part));
}

template <typename T>
std::vector<T> gather(const std::vector<T>& v, const std::vector<size_t>* rows) {
  if (!rows) return v;
  std::vector<T> out(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) out[i] = v[(*rows)[i]];
  return out;
}

const Column& find_column(const Table& table, const ColumnTransform& ct) {
  int idx = table.find(ct.name);
  if (idx < 0) throw InputError("feature column '" + ct.name + "' is missing from the input");
  const Column& c = table.columns[static_cast<size_t>(idx)];
  if (c.type != ct.type)
    throw InputError("column '" + ct.name + "' holds " + std::string(to_string(c.type)) +
                     " values but the model was trained on " +
                     std::string(to_string(ct.type)) + " values");
  return c;
}

}  // namespace

std::vector<std::pair<uint32_t, float>> hash_tokens(const std::string& text, int width) {
  std::unordered_map<uint32_t, float> counts;
  uint32_t h = 2166136261u;
  bool in_token = false;
  auto flush = [&]() {
    if (in_token) counts[h % static_cast<uint32_t>(width)] += 1.0f;
    h = 2166136261u;
    in_token = false;
  };
  for (unsigned char ch : text) {
    if (std::isalnum(ch)) {
      h = (h ^ static_cast<uint32_t>(std::tolower(ch))) * 16777619u;
      in_token = true;
    } else {
      flush();
    }
  }
  flush();
  std::vector<std::pair<uint32_t, float>> out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json FeatureRecipe::to_json() const {
  return {{"scaling", scaling_name(scaling)},
          {"missing_indicators", missing_indicators},
          {"impute", impute},
          {"categorical", categorical == Categorical::kOneHot ? "one-hot" : "ordinal"},
          {"max_one_hot", max_one_hot},
          {"min_category_count", min_category_count},
          {"text_hash_width", text_hash_width}};
}

FeatureRecipe FeatureRecipe::from_json(const nlohmann::json& j) {
  FeatureRecipe r;
  std::string s = j.value("scaling", "standard");
  r.scaling = s == "robust" ? Scaling::kRobust : s == "none" ? Scaling::kNone : Scaling::kStandard;
  r.missing_indicators = j.value("missing_indicators", true);
  r.impute = j.value("impute", true);
  r.categorical = j.value("categorical", "one-hot") == "ordinal" ? Categorical::kOrdinal
                                                                 : Categorical::kOneHot;
  r.max_one_hot = j.value("max_one_hot", 100);
  r.min_category_count = j.value("min_category_count", 10);
  r.text_hash_width = j.value("text_hash_width", 128);
  return r;
}

std::string FeatureRecipe::describe() const {
  std::string num = std::string(impute ? "numeric -> median imputation"
                                       : "numeric -> missing left to the learner") +
                    (missing_indicators ? " + missing indicator" : "") +
                    (scaling == Scaling::kNone ? "" : std::string(" + ") + scaling_name(scaling) +
                                                          " scaling");
  std::string cat = categorical == Categorical::kOneHot
                        ? "categorical -> one-hot (categories seen >= max(" +
                              std::to_string(min_category_count) + ", rows/1000) times, at most " +
                              std::to_string(max_one_hot) + "; the rest and unseen -> other)"
                        : "categorical -> ordinal codes by frequency (unseen -> other, missing "
                          "left to the learner)";
  return num + "; " + cat + "; datetime -> calendar parts with cyclic sin/cos; text -> hashed "
         "TF-IDF (" + std::to_string(text_hash_width) + " buckets)";
}

void FeatureTransform::fit(const Table& table, const std::vector<std::string>& features,
                           const std::vector<size_t>& rows, const FeatureRecipe& recipe) {
  recipe_ = recipe;
  columns_.clear();
  const bool one_hot = recipe.categorical == FeatureRecipe::Categorical::kOneHot;
  for (const auto& name : features) {
    const Column& col = table.at(name);
    ColumnTransform ct;
    ct.name = name;
    ct.type = col.type;
    switch (col.type) {
      case ColumnType::kNumeric: {
        std::vector<float> present;
        present.reserve(rows.size());
        for (size_t r : rows)
          if (!std::isnan(col.numeric[r])) present.push_back(col.numeric[r]);
        ct.indicator = recipe.missing_indicators && present.size() < rows.size();
        fit_scaling(present, recipe.scaling, ct.fill, ct.center, ct.inv_scale);
        if (!recipe.impute) ct.fill = NAN;
        ct.width = 1 + (ct.indicator ? 1 : 0);
        break;
      }
      case ColumnType::kCategorical: {
        std::vector<size_t> counts(col.categories.size(), 0);
        size_t missing = 0;
        for (size_t r : rows) {
          if (col.codes[r] < 0) ++missing;
          else ++counts[static_cast<size_t>(col.codes[r])];
        }
        std::vector<size_t> order;
        for (size_t c = 0; c < counts.size(); ++c)
          if (counts[c] > 0) order.push_back(c);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          if (counts[a] != counts[b]) return counts[a] > counts[b];
          return col.categories[a] < col.categories[b];
        });
        size_t threshold = one_hot ? std::max<size_t>(static_cast<size_t>(recipe.min_category_count),
                                                      rows.size() / 1000)
                                   : 1;
        size_t cap = one_hot ? static_cast<size_t>(recipe.max_one_hot) : 1000;
        for (size_t c : order) {
          if (counts[c] >= threshold && ct.kept.size() < cap &&
              col.categories[c].size() <= kMaxCategoryBytes)
            ct.kept.push_back(col.categories[c]);
          else ct.other_slot = true;
        }
        ct.indicator = one_hot && recipe.missing_indicators && missing > 0;
        ct.width = one_hot ? ct.kept.size() + (ct.other_slot ? 1 : 0) + (ct.indicator ? 1 : 0) : 1;
        break;
      }
      case ColumnType::kDatetime: {
        std::vector<double> t;
        t.reserve(rows.size());
        for (size_t r : rows)
          if (!std::isnan(col.epoch_seconds[r])) t.push_back(col.epoch_seconds[r]);
        ct.indicator = recipe.missing_indicators && t.size() < rows.size();
        for (const auto& p : kParts) {
          std::vector<float> v(t.size());
          date_part_cpu(t.data(), t.size(), p.part, v.data(), 1);
          auto [mn, mx] = std::minmax_element(v.begin(), v.end());
          if (v.empty() || *mn == *mx) continue;  // constant parts carry nothing
          float fill, center, inv;
          fit_scaling(v, p.period > 0 ? FeatureRecipe::Scaling::kNone : recipe.scaling, fill,
                      center, inv);
          ct.parts.push_back(static_cast<int>(p.part));
          ct.part_fill.push_back(fill);
          ct.part_center.push_back(center);
          ct.part_inv_scale.push_back(inv);
          ct.width += p.period > 0 ? 2 : 1;
        }
        ct.width += ct.indicator ? 1 : 0;
        break;
      }
      case ColumnType::kText: {
        const int w = recipe.text_hash_width;
        std::vector<size_t> df(static_cast<size_t>(w), 0);
        for (size_t r : rows) {
          if (col.text_missing[r]) continue;
          for (auto [bucket, count] : hash_tokens(col.text[r], w)) ++df[bucket];
        }
        ct.idf.resize(static_cast<size_t>(w));
        double n = static_cast<double>(rows.size());
        for (int b = 0; b < w; ++b)
          ct.idf[b] = static_cast<float>(std::log((1.0 + n) / (1.0 + static_cast<double>(df[b]))) + 1.0);
        ct.width = static_cast<size_t>(w);
        break;
      }
      case ColumnType::kIdLike:
        continue;  // identifiers carry no signal that generalises
    }
    columns_.push_back(std::move(ct));
  }
  finish_layout();
}

void FeatureTransform::finish_layout() {
  output_names_.clear();
  output_sources_.clear();
  const bool one_hot = recipe_.categorical == FeatureRecipe::Categorical::kOneHot;
  for (const auto& ct : columns_) {
    auto add = [&](const std::string& n) {
      output_names_.push_back(n);
      output_sources_.push_back(ct.name);
    };
    switch (ct.type) {
      case ColumnType::kNumeric: add(ct.name); break;
      case ColumnType::kCategorical:
        if (!one_hot) {
          add(ct.name);
          break;
        }
        for (const auto& k : ct.kept) add(ct.name + "=" + k);
        if (ct.other_slot) add(ct.name + "=__other__");
        break;
      case ColumnType::kDatetime:
        for (int p : ct.parts) {
          const auto& info = part_info(p);
          if (info.period > 0) {
            add(ct.name + "__" + info.name + "_sin");
            add(ct.name + "__" + info.name + "_cos");
          } else {
            add(ct.name + "__" + info.name);
          }
        }
        break;
      case ColumnType::kText:
        for (size_t b = 0; b < ct.idf.size(); ++b) add(ct.name + "__tfidf" + std::to_string(b));
        break;
      default: break;
    }
    if (ct.indicator) add(ct.name + "__missing");
  }
  width_ = output_names_.size();
}

Matrix FeatureTransform::transform(const Table& table, const std::vector<size_t>* rows) const {
  const size_t n = rows ? rows->size() : table.num_rows;
  Matrix out(n, width_);
  const bool one_hot = recipe_.categorical == FeatureRecipe::Categorical::kOneHot;
  size_t offset = 0;
  for (const auto& ct : columns_) {
    const Column& col = find_column(table, ct);
    float* dst = out.data() + offset;
    const size_t stride = width_;
    switch (ct.type) {
      case ColumnType::kNumeric: {
        auto v = gather(col.numeric, rows);
        impute_scale_cpu(v.data(), n, ct.fill, ct.center, ct.inv_scale, dst, stride,
                         ct.indicator ? dst + 1 : nullptr);
        break;
      }
      case ColumnType::kCategorical: {
        auto codes = gather(col.codes, rows);
        // This table's dictionary -> the fitted slots, matched by category text.
        std::unordered_map<std::string, int32_t> slot_of;
        for (size_t k = 0; k < ct.kept.size(); ++k) slot_of[ct.kept[k]] = static_cast<int32_t>(k);
        const int32_t other = static_cast<int32_t>(ct.kept.size());
        std::vector<int32_t> map(col.categories.size());
        for (size_t c = 0; c < col.categories.size(); ++c) {
          auto it = slot_of.find(col.categories[c]);
          map[c] = it != slot_of.end() ? it->second : (ct.other_slot || !one_hot ? other : -1);
        }
        if (one_hot) {
          int32_t cat_width = other + (ct.other_slot ? 1 : 0);
          one_hot_cpu(codes.data(), n, map.data(), static_cast<int32_t>(map.size()), -1, dst,
                      stride, cat_width);
          if (ct.indicator)
            for (size_t r = 0; r < n; ++r)
              dst[r * stride + static_cast<size_t>(cat_width)] = codes[r] < 0 ? 1.0f : 0.0f;
        } else {
          std::vector<float> value(map.begin(), map.end());
          ordinal_cpu(codes.data(), n, value.data(), static_cast<int32_t>(value.size()), dst,
                      stride);
        }
        break;
      }
      case ColumnType::kDatetime: {
        auto t = gather(col.epoch_seconds, rows);
        std::vector<float> part(n);
        size_t c = 0;
        for (size_t i = 0; i < ct.parts.size(); ++i) {
          const auto& info = part_info(ct.parts[i]);
          date_part_cpu(t.data(), n, info.part, part.data(), 1);
          if (info.period > 0) {
            cyclic_encode_cpu(part.data(), n, info.period, dst + c, stride);
            c += 2;
          } else {
            impute_scale_cpu(part.data(), n, ct.part_fill[i], ct.part_center[i],
                             ct.part_inv_scale[i], dst + c, stride, nullptr);
            c += 1;
          }
        }
        if (ct.indicator)
          for (size_t r = 0; r < n; ++r) dst[r * stride + c] = std::isnan(t[r]) ? 1.0f : 0.0f;
        break;
      }
      case ColumnType::kText: {
        const int w = static_cast<int>(ct.idf.size());
        for (size_t r = 0; r < n; ++r) {
          size_t src = rows ? (*rows)[r] : r;
          float* row = dst + r * stride;
          std::fill(row, row + w, 0.0f);
          if (col.text_missing[src]) continue;
          double norm = 0;
          auto tokens = hash_tokens(col.text[src], w);
          for (auto [b, count] : tokens) norm += std::pow(count * ct.idf[b], 2);
          float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
          for (auto [b, count] : tokens) row[b] = count * ct.idf[b] * inv;
        }
        break;
      }
      default: break;
    }
    offset += ct.width;
  }
  return out;
}

nlohmann::json FeatureTransform::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& ct : columns_) {
    nlohmann::json c = {{"name", ct.name}, {"type", to_string(ct.type)}, {"width", ct.width},
                        {"indicator", ct.indicator}};
    switch (ct.type) {
      case ColumnType::kNumeric:
        c["fill"] = ct.fill;
        c["center"] = ct.center;
        c["inv_scale"] = ct.inv_scale;
        break;
      case ColumnType::kCategorical:
        c["kept"] = ct.kept;
        c["other_slot"] = ct.other_slot;
        break;
      case ColumnType::kDatetime:
        c["parts"] = ct.parts;
        c["part_fill"] = ct.part_fill;
        c["part_center"] = ct.part_center;
        c["part_inv_scale"] = ct.part_inv_scale;
        break;
      case ColumnType::kText: c["idf"] = ct.idf; break;
      default: break;
    }
    cols.push_back(std::move(c));
  }
  return {{"recipe", recipe_.to_json()}, {"columns", cols}, {"output_names", output_names_}};
}

FeatureTransform FeatureTransform::from_json(const nlohmann::json& j) {
  FeatureTransform f;
  f.recipe_ = FeatureRecipe::from_json(j.at("recipe"));
  for (const auto& c : j.at("columns")) {
    ColumnTransform ct;
    ct.name = c.at("name");
    ct.type = column_type_from_string(c.at("type").get<std::string>());
    ct.width = c.at("width");
    ct.indicator = c.at("indicator");
    // JSON has no NaN: a fill written as null means "leave missing values as NaN".
    ct.fill = c.contains("fill") && c["fill"].is_null() ? NAN : c.value("fill", 0.0f);
    ct.center = c.value("center", 0.0f);
    ct.inv_scale = c.value("inv_scale", 1.0f);
    ct.kept = c.value("kept", std::vector<std::string>{});
    ct.other_slot = c.value("other_slot", false);
    ct.parts = c.value("parts", std::vector<int>{});
    ct.part_fill = c.value("part_fill", std::vector<float>{});
    ct.part_center = c.value("part_center", std::vector<float>{});
    ct.part_inv_scale = c.value("part_inv_scale", std::vector<float>{});
    ct.idf = c.value("idf", std::vector<float>{});
    f.columns_.push_back(std::move(ct));
  }
  f.finish_layout();
  return f;
}

}  // namespace tabpilot
