#include "tabpilot/monitor/statistics.h"

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tabpilot/common/error.h"

namespace tabpilot::monitor {
namespace {

// The float the CSV reader stored, as the decimal it was written as (32.1f -> 32.1, not
// 32.099998474121094): the shortest text that round-trips the float, read as a double.
double float_as_decimal(float f) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, f).ptr;
  double d = f;
  std::from_chars(buf, end, d);
  return d;
}

bool is_whole(double v) { return std::floor(v) == v && std::fabs(v) < 9007199254740992.0; }

// A number if the whole (trimmed) text is one finite decimal number.
bool parse_number(const std::string& s, double* out) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  if (b == e) return false;
  const std::string t = s.substr(b, e - b);
  // strtod also reads "inf", "nan" and hex; those are strings here.
  for (char c : t)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

ColumnValues classify(const Column& column) {
  ColumnValues out;
  out.column = &column;
  const size_t n = column.size();
  out.kinds.assign(n, ValueKind::kMissing);
  out.numbers.assign(n, std::nan(""));
  for (size_t r = 0; r < n; ++r) {
    if (column.is_missing(r)) continue;
    double v = 0;
    const bool number = column.type == ColumnType::kNumeric
                            ? (v = float_as_decimal(column.numeric[r]), true)
                            : parse_number(column.value_string(r), &v);
    if (number) {
      out.numbers[r] = v;
      out.kinds[r] = is_whole(v) ? ValueKind::kIntegral : ValueKind::kFractional;
    } else {
      out.kinds[r] = ValueKind::kString;
    }
  }
  return out;
}

std::string infer_type(const ColumnValues& values) {
  bool any = false, fractional = false;
  for (ValueKind k : values.kinds) {
    if (k == ValueKind::kString) return "String";
    if (k == ValueKind::kFractional) fractional = true;
    if (k != ValueKind::kMissing) any = true;
  }
  if (!any) return "Unknown";
  return fractional ? "Fractional" : "Integral";
}

bool is_numeric_type(const std::string& t) { return t == "Integral" || t == "Fractional"; }

FeatureStatistics profile(const ColumnValues& values, const std::string& as_type) {
  FeatureStatistics f;
  f.name = values.name();
  f.inferred_type = as_type;
  const bool numeric = is_numeric_type(as_type);
  double sum = 0, min = INFINITY, max = -INFINITY;
  for (size_t r = 0; r < values.size(); ++r) {
    const ValueKind k = values.kinds[r];
    if (k == ValueKind::kMissing) {
      ++f.num_missing;
    } else if (!numeric) {
      ++f.num_present;
      ++f.counts[values.text(r)];
    } else if (k != ValueKind::kString) {
      const double v = values.numbers[r];
      ++f.num_present;
      sum += v;
      min = std::min(min, v);
      max = std::max(max, v);
      f.sketch.update(v);
    }
  }
  if (numeric && f.num_present > 0) {
    const double n = static_cast<double>(f.num_present);
    f.sum = sum;
    f.mean = sum / n;
    double m2 = 0;  // second pass: no cancellation for large offsets
    for (size_t r = 0; r < values.size(); ++r)
      if (values.kinds[r] == ValueKind::kIntegral || values.kinds[r] == ValueKind::kFractional)
        m2 += (values.numbers[r] - f.mean) * (values.numbers[r] - f.mean);
    f.std_dev = std::sqrt(m2 / n);
    f.min = min;
    f.max = max;
  }
  f.distinct_count = f.counts.size();
  return f;
}

namespace {

// Ten equal-width buckets over [min, max], filled from the sketch's weighted items so their
// counts sum to num_present; the last bucket includes max.
nlohmann::json kll_buckets(const FeatureStatistics& f) {
  nlohmann::json buckets = nlohmann::json::array();
  std::vector<uint64_t> counts(kDistributionBuckets, 0);
  const double width = (f.max - f.min) / kDistributionBuckets;
  for (const auto& [v, w] : f.sketch.weighted_items()) {
    int b = width > 0 ? static_cast<int>((v - f.min) / width) : 0;
    counts[static_cast<size_t>(std::clamp(b, 0, kDistributionBuckets - 1))] += w;
  }
  for (int b = 0; b < kDistributionBuckets; ++b) {
    const double lo = f.min + b * width;
    const double hi = b + 1 == kDistributionBuckets ? f.max : f.min + (b + 1) * width;
    buckets.push_back({{"lower_bound", lo}, {"upper_bound", hi}, {"count", counts[b]}});
  }
  return buckets;
}

}  // namespace

nlohmann::json feature_json(const FeatureStatistics& f) {
  nlohmann::json common = {{"num_present", f.num_present}, {"num_missing", f.num_missing}};
  nlohmann::json j = {{"name", f.name}, {"inferred_type", f.inferred_type}};
  if (is_numeric_type(f.inferred_type)) {
    j["numerical_statistics"] = {
        {"common", common}, {"mean", f.mean},     {"sum", f.sum},
        {"std_dev", f.std_dev}, {"min", f.min},   {"max", f.max},
        {"distribution",
         {{"kll", {{"buckets", kll_buckets(f)}, {"sketch", f.sketch.to_json()}}}}}};
    return j;
  }
  std::vector<std::pair<std::string, size_t>> top(f.counts.begin(), f.counts.end());
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > kMaxCategoricalBuckets) top.resize(kMaxCategoricalBuckets);
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& [value, count] : top) buckets.push_back({{"value", value}, {"count", count}});
  j["string_statistics"] = {{"common", common},
                            {"distinct_count", f.distinct_count},
                            {"distribution", {{"categorical", {{"buckets", buckets}}}}}};
  return j;
}

FeatureStatistics feature_from_json(const nlohmann::json& j, const std::string& where) {
  FeatureStatistics f;
  try {
    f.name = j.at("name").get<std::string>();
    f.inferred_type = j.at("inferred_type").get<std::string>();
    const std::string at = where + ": feature '" + f.name + "'";
    const bool numeric = j.contains("numerical_statistics");
    const auto& s = numeric ? j.at("numerical_statistics") : j.at("string_statistics");
    f.num_present = s.at("common").at("num_present").get<size_t>();
    f.num_missing = s.at("common").at("num_missing").get<size_t>();
    if (numeric) {
      for (const char* key : {"mean", "sum", "std_dev", "min", "max"})
        if (!s.contains(key)) throw InputError(at + ": numerical_statistics has no '" + key + "'");
      f.mean = s["mean"].get<double>();
      f.sum = s["sum"].get<double>();
      f.std_dev = s["std_dev"].get<double>();
      f.min = s["min"].get<double>();
      f.max = s["max"].get<double>();
      if (f.num_present > 0) f.sketch = KllSketch::from_json(s.at("distribution").at("kll").at("sketch"), at);
    } else {
      f.distinct_count = s.at("distinct_count").get<size_t>();
      for (const auto& b : s.at("distribution").at("categorical").at("buckets"))
        f.counts[b.at("value").get<std::string>()] = b.at("count").get<size_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": not a Model Monitor statistics feature (" + e.what() + ")");
  }
  return f;
}

nlohmann::json statistics_json(const std::vector<FeatureStatistics>& features, size_t item_count) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : features) list.push_back(feature_json(f));
  return {{"version", 0}, {"dataset", {{"item_count", item_count}}}, {"features", list}};
}

}  // namespace tabpilot::monitor
