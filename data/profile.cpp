#include "tabpilot/data/profile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "tabpilot/common/error.h"
#include "tabpilot/common/text.h"

namespace tabpilot {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kTopValues = 10;
constexpr size_t kHistogramBins = 20;

struct Summary {
  size_t count = 0, distinct = 0;
  double min = kNaN, max = kNaN, mean = kNaN, std = kNaN, p25 = kNaN, p50 = kNaN, p75 = kNaN;
};

// Linear interpolation between closest ranks (numpy's and pandas' default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// `values` holds the present values; it is sorted in place.
Summary summarize(std::vector<double>& values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.std = s.count > 1 ? std::sqrt(ss / static_cast<double>(s.count - 1)) : 0.0;  // sample std
  s.p25 = quantile(values, 0.25);
  s.p50 = quantile(values, 0.50);
  s.p75 = quantile(values, 0.75);
  s.distinct = 1;
  for (size_t i = 1; i < values.size(); ++i) s.distinct += values[i] != values[i - 1] ? 1 : 0;
  return s;
}

std::vector<double> present_values(const Column& c) {
  std::vector<double> out;
  if (c.type == ColumnType::kNumeric) {
    for (float v : c.numeric) {
      if (!std::isnan(v)) out.push_back(v);
    }
  } else if (c.type == ColumnType::kDatetime) {
    for (double v : c.epoch_seconds) {
      if (!std::isnan(v)) out.push_back(v);
    }
  }
  return out;
}

// Counts of each present value in order of first appearance.
std::vector<std::pair<std::string, size_t>> value_counts(const Column& c) {
  std::vector<std::pair<std::string, size_t>> out;
  if (c.type == ColumnType::kCategorical) {
    std::vector<size_t> counts(c.categories.size(), 0);
    std::vector<int32_t> order;
    for (int32_t code : c.codes) {
      if (code < 0) continue;
      if (counts[code]++ == 0) order.push_back(code);
    }
    for (int32_t code : order) out.emplace_back(c.categories[code], counts[code]);
    return out;
  }
  std::unordered_map<std::string, size_t> index;
  for (size_t r = 0; r < c.size(); ++r) {
    if (c.is_missing(r)) continue;
    auto [it, added] = index.try_emplace(c.value_string(r), out.size());
    if (added) out.emplace_back(it->first, 0);
    ++out[it->second].second;
  }
  return out;
}

void most_frequent_first(std::vector<std::pair<std::string, size_t>>& counts) {
  std::stable_sort(counts.begin(), counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
}

uint64_t mix(uint64_t h) {  // splitmix64 finalizer: spreads every input bit over the hash
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

uint64_t cell_hash(const Column& c, size_t r) {
  if (c.is_missing(r)) return 0x9e3779b97f4a7c15ULL;
  switch (c.type) {
    case ColumnType::kNumeric: {
      float v = c.numeric[r] == 0 ? 0.0f : c.numeric[r];  // -0 equals 0
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      return bits;
    }
    case ColumnType::kCategorical:
      return static_cast<uint64_t>(c.codes[r]);
    case ColumnType::kDatetime: {
      uint64_t bits;
      std::memcpy(&bits, &c.epoch_seconds[r], sizeof bits);
      return bits;
    }
    default:
      return std::hash<std::string>()(c.text[r]);
  }
}

bool cells_equal(const Column& c, size_t a, size_t b) {
  const bool ma = c.is_missing(a), mb = c.is_missing(b);
  if (ma || mb) return ma == mb;
  switch (c.type) {
    case ColumnType::kNumeric:
      return c.numeric[a] == c.numeric[b];
    case ColumnType::kCategorical:
      return c.codes[a] == c.codes[b];
    case ColumnType::kDatetime:
      return c.epoch_seconds[a] == c.epoch_seconds[b];
    default:
      return c.text[a] == c.text[b];
  }
}

// Rows equal to an earlier row in every column. Hashes find candidates; equal hashes are
// confirmed cell by cell, so a collision never counts as a duplicate.
size_t count_duplicate_rows(const Table& t) {
  const size_t rows = t.num_rows;
  std::vector<uint64_t> hash(rows, 0);
  for (const Column& c : t.columns) {
    for (size_t r = 0; r < rows; ++r) hash[r] = mix(hash[r] ^ mix(cell_hash(c, r)));
  }
  std::vector<size_t> order(rows);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return hash[a] < hash[b]; });
  auto rows_equal = [&](size_t a, size_t b) {
    for (const Column& c : t.columns) {
      if (!cells_equal(c, a, b)) return false;
    }
    return true;
  };
  size_t duplicates = 0;
  for (size_t i = 0; i < rows;) {
    size_t j = i;
    while (j < rows && hash[order[j]] == hash[order[i]]) ++j;
    std::vector<size_t> distinct;
    for (size_t k = i; k < j; ++k) {
      const bool seen = std::any_of(distinct.begin(), distinct.end(),
                                    [&](size_t d) { return rows_equal(d, order[k]); });
      if (seen) {
        ++duplicates;
      } else {
        distinct.push_back(order[k]);
      }
    }
    i = j;
  }
  return duplicates;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

std::string percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * f);
  return buf;
}

}  // namespace

std::string stray_message(const Column& c) {
  const StrayValues& s = c.strays;
  return "column '" + c.name + "' is numeric but " + std::to_string(s.count) +
         (s.count == 1 ? " value is" : " values are") + " not a number (first: '" + s.first +
         "' on line " + std::to_string(s.line) + "); read as missing (--column-type " + c.name +
         "=categorical reads the column as categories)";
}

DataProfile profile_table(const Table& table) {
  DataProfile p;
  p.rows = table.num_rows;
  p.columns = table.columns.size();
  for (const Column& c : table.columns) {
    ColumnProfile cp;
    cp.name = c.name;
    cp.type = c.type;
    cp.missing = c.missing_count();
    cp.missing_fraction =
        p.rows ? static_cast<double>(cp.missing) / static_cast<double>(p.rows) : 0.0;
    cp.min = cp.max = cp.mean = cp.std = cp.p25 = cp.p50 = cp.p75 = kNaN;
    if (c.type == ColumnType::kNumeric || c.type == ColumnType::kDatetime) {
      std::vector<double> values = present_values(c);
      const Summary s = summarize(values);
      cp.distinct = s.distinct;
      cp.min = s.min, cp.max = s.max, cp.mean = s.mean, cp.std = s.std;
      cp.p25 = s.p25, cp.p50 = s.p50, cp.p75 = s.p75;
    } else {
      auto counts = value_counts(c);
      cp.distinct = counts.size();
      if (c.type != ColumnType::kIdLike) {
        most_frequent_first(counts);
        if (counts.size() > kTopValues) counts.resize(kTopValues);
        cp.top_values = std::move(counts);
      }
    }
    if (p.rows > 0 && cp.distinct <= 1) {
      p.warnings.push_back({"constant_column", c.name,
                            "column '" + c.name + "' has " +
                                (cp.distinct ? "a single value" : "no values") +
                                "; it carries no information and can be dropped"});
    }
    if (c.strays.count > 0) p.warnings.push_back({"non_numeric_values", c.name, stray_message(c)});
    if (c.type == ColumnType::kIdLike) {
      p.warnings.push_back({"id_like_column", c.name,
                            "column '" + c.name + "' looks like an identifier (" +
                                (c.id_reason.empty() ? std::to_string(cp.distinct) + " distinct values"
                                                     : c.id_reason) +
                                "); it is not used as a feature"});
    }
    if (cp.missing_fraction > 0.5) {
      p.warnings.push_back(
          {"mostly_missing", c.name,
           "column '" + c.name + "' is " + percent(cp.missing_fraction) + " missing"});
    }
    p.column_profiles.push_back(std::move(cp));
  }
  p.duplicate_rows = count_duplicate_rows(table);
  if (p.duplicate_rows > 0) {
    p.warnings.push_back({"duplicate_rows", "",
                          std::to_string(p.duplicate_rows) + " of " + std::to_string(p.rows) +
                              " rows repeat an earlier row exactly"});
  }
  return p;
}

nlohmann::json DataProfile::to_json() const {
  nlohmann::json j;
  j["rows"] = rows;
  j["columns"] = columns;
  j["duplicate_rows"] = duplicate_rows;
  j["column_profiles"] = nlohmann::json::array();
  for (const ColumnProfile& c : column_profiles) {
    nlohmann::json cj{{"name", c.name},
                      {"type", std::string(to_string(c.type))},
                      {"missing", c.missing},
                      {"missing_fraction", c.missing_fraction},
                      {"distinct", c.distinct}};
    if (c.type == ColumnType::kNumeric || c.type == ColumnType::kDatetime) {
      cj["min"] = number(c.min);
      cj["max"] = number(c.max);
      cj["mean"] = number(c.mean);
      cj["std"] = number(c.std);
      cj["p25"] = number(c.p25);
      cj["p50"] = number(c.p50);
      cj["p75"] = number(c.p75);
    } else {
      cj["top_values"] = nlohmann::json::array();
      for (const auto& [value, count] : c.top_values) {
        cj["top_values"].push_back({{"value", shorten(value)}, {"count", count}});
      }
    }
    j["column_profiles"].push_back(std::move(cj));
  }
  j["warnings"] = nlohmann::json::array();
  for (const Warning& w : warnings) {
    j["warnings"].push_back({{"code", w.code}, {"column", w.column}, {"message", w.message}});
  }
  return j;
}

nlohmann::json analyze_target(const Column& target, Task task, std::vector<Warning>& warnings) {
  const size_t missing = target.missing_count();
  const size_t present = target.size() - missing;
  nlohmann::json j{{"column", target.name},
                   {"task", std::string(to_string(task))},
                   {"rows", present},
                   {"missing", missing}};
  if (missing > 0) {
    warnings.push_back({"dropped_missing_target", target.name,
                        std::to_string(missing) + " rows have no value in target '" + target.name +
                            "'; they are left out of training"});
  }
  if (is_classification(task)) {
    auto counts = value_counts(target);
    most_frequent_first(counts);
    j["classes"] = nlohmann::json::array();
    for (const auto& [label, count] : counts) {
      j["classes"].push_back(
          {{"label", shorten(label)},
           {"count", count},
           {"fraction",
            present ? static_cast<double>(count) / static_cast<double>(present) : 0.0}});
      if (count < 2) {
        warnings.push_back({"tiny_class", target.name,
                            "class '" + shorten(label) + "' of target '" + target.name + "' has " +
                                std::to_string(count) +
                                " row; it cannot be in both training and validation"});
      }
    }
    if (counts.size() >= 2) {
      const double ratio =
          static_cast<double>(counts.back().second) / static_cast<double>(counts.front().second);
      j["imbalance_ratio"] = ratio;
      if (ratio < 0.1) {
        warnings.push_back({"class_imbalance", target.name,
                            "the smallest class '" + counts.back().first + "' has " +
                                std::to_string(counts.back().second) + " rows, the largest '" +
                                counts.front().first + "' " +
                                std::to_string(counts.front().second) +
                                "; consider a balanced metric"});
      }
    }
    return j;
  }
  if (target.type != ColumnType::kNumeric) {
    throw InputError("target column '" + target.name + "' is " +
                     std::string(to_string(target.type)) +
                     ", but regression needs a numeric target; choose a classification task");
  }
  std::vector<double> values = present_values(target);
  const Summary s = summarize(values);
  j["distinct"] = s.distinct;
  j["min"] = number(s.min);
  j["max"] = number(s.max);
  j["mean"] = number(s.mean);
  j["std"] = number(s.std);
  j["p25"] = number(s.p25);
  j["p50"] = number(s.p50);
  j["p75"] = number(s.p75);
  // Equal-width bins over [min, max]; the last bin includes max.
  std::vector<size_t> counts(kHistogramBins, 0);
  std::vector<double> edges(kHistogramBins + 1, s.min);
  if (!values.empty()) {
    const double width = (s.max - s.min) / kHistogramBins;
    for (size_t b = 0; b <= kHistogramBins; ++b) edges[b] = s.min + width * b;
    edges.back() = s.max;
    for (double v : values) {
      size_t b = width > 0 ? static_cast<size_t>((v - s.min) / width) : 0;
      ++counts[std::min(b, kHistogramBins - 1)];
    }
  }
  j["histogram"] = {{"edges", edges}, {"counts", counts}};
  return j;
}

}  // namespace tabpilot
