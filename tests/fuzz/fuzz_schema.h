// The schema every body fuzz target parses against: one column of each input type.
#pragma once
#include "tabpilot/serve/request_body.h"

namespace tabpilot::serve {

inline const InputSchema& fuzz_schema() {
  static const InputSchema schema = [] {
    InputSchema s;
    s.names = {"island", "bill", "when", "note", "id"};
    s.types = {ColumnType::kCategorical, ColumnType::kNumeric, ColumnType::kDatetime,
               ColumnType::kText, ColumnType::kIdLike};
    s.target = "species";
    return s;
  }();
  return schema;
}

// Runs one body parser; a BadRequest is an expected outcome, anything else escapes and
// fails the run. A parsed table must have one value per column for every record.
template <class Parse>
void fuzz_body(const uint8_t* data, size_t size, Parse parse) {
  TableBuilder builder(fuzz_schema());
  try {
    parse(std::string_view(reinterpret_cast<const char*>(data), size), builder);
  } catch (const BadRequest&) {
    return;
  }
  const Table& t = builder.table();
  for (const Column& c : t.columns)
    if (c.size() != t.num_rows) __builtin_trap();
}

}  // namespace tabpilot::serve
