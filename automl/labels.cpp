#include "tabpilot/automl/labels.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool true_like(const std::string& label) {
  static const char* kTrue[] = {"1", "1.0", "true", "yes", "y", "t", "positive", "pos"};
  std::string l = lower(label);
  for (const char* t : kTrue)
    if (l == t) return true;
  return l.find("positive") != std::string::npos && l.find("negative") == std::string::npos;
}

bool as_number(const std::string& s, double& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

EncodedTarget encode_target(const Column& target, Task task) {
  EncodedTarget out;
  const size_t n = target.size();
  for (size_t r = 0; r < n; ++r) {
    if (target.is_missing(r)) ++out.dropped;
    else out.kept_rows.push_back(r);
  }
  if (out.kept_rows.empty())
    throw InputError("target column '" + target.name + "' has no values (all " +
                     std::to_string(n) + " rows are missing)");

  if (task == Task::kRegression) {
    if (target.type != ColumnType::kNumeric)
      throw InputError("target column '" + target.name +
                       "' is not numeric, so it cannot be a regression target (use "
                       "--problem-type binary or multiclass)");
    out.y.reserve(out.kept_rows.size());
    for (size_t r : out.kept_rows) out.y.push_back(target.numeric[r]);
    auto [mn, mx] = std::minmax_element(out.y.begin(), out.y.end());
    if (*mn == *mx)
      throw InputError("target column '" + target.name + "' has the single value " +
                       target.value_string(out.kept_rows[0]) + " on every row: nothing to learn");
    return out;
  }

  std::map<std::string, size_t> counts;
  std::vector<std::string> text(out.kept_rows.size());
  for (size_t i = 0; i < out.kept_rows.size(); ++i) {
    text[i] = target.value_string(out.kept_rows[i]);
    ++counts[text[i]];
  }
  if (counts.size() < 2)
    throw InputError("target column '" + target.name + "' has a single class '" +
                     counts.begin()->first + "': classification needs at least two");
  if (task == Task::kBinary && counts.size() != 2)
    throw InputError("target column '" + target.name + "' has " + std::to_string(counts.size()) +
                     " classes, but binary classification needs exactly 2 (use --problem-type "
                     "multiclass)");
  for (const auto& [label, c] : counts) out.labels.push_back(label);
  bool numeric = std::all_of(out.labels.begin(), out.labels.end(), [](const std::string& s) {
    double v;
    return as_number(s, v);
  });
  if (numeric) {
    std::sort(out.labels.begin(), out.labels.end(), [](const std::string& a, const std::string& b) {
      double x, y;
      as_number(a, x);
      as_number(b, y);
      return x < y;
    });
  }
  if (task == Task::kBinary) {
    const std::string& a = out.labels[0];
    const std::string& b = out.labels[1];
    bool ta = true_like(a), tb = true_like(b);
    std::string positive;
    if (ta != tb) positive = ta ? a : b;
    else if (counts[a] != counts[b]) positive = counts[a] < counts[b] ? a : b;
    else positive = std::max(a, b);
    if (positive == a) std::swap(out.labels[0], out.labels[1]);
  }
  std::map<std::string, int> index;
  for (size_t i = 0; i < out.labels.size(); ++i) index[out.labels[i]] = static_cast<int>(i);
  out.y.reserve(text.size());
  out.class_of_row.reserve(text.size());
  for (const auto& t : text) {
    int c = index[t];
    out.class_of_row.push_back(c);
    out.y.push_back(static_cast<float>(c));
  }
  return out;
}

}  // namespace tabpilot
