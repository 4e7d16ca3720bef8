// Small column builders for tests: categorical columns from strings ("" = missing, codes in
// order of first appearance, as the CSV reader makes them) and numeric ones from floats.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "tabpilot/data/table.h"

namespace tabpilot::testing {

inline Column categorical_column(const std::string& name, const std::vector<std::string>& values) {
  Column c;
  c.name = name;
  c.type = ColumnType::kCategorical;
  for (const auto& v : values) {
    if (v.empty()) {
      c.codes.push_back(-1);
      continue;
    }
    auto it = std::find(c.categories.begin(), c.categories.end(), v);
    if (it == c.categories.end()) {
      c.categories.push_back(v);
      c.codes.push_back(static_cast<int32_t>(c.categories.size() - 1));
    } else {
      c.codes.push_back(static_cast<int32_t>(it - c.categories.begin()));
    }
  }
  return c;
}

inline Column numeric_column(const std::string& name, std::vector<float> values) {
  Column c;
  c.name = name;
  c.type = ColumnType::kNumeric;
  c.numeric = std::move(values);
  return c;
}

}  // namespace tabpilot::testing
