// Invocation payloads -> a typed Table in training column order, without sockets (each body
// parser is fuzzed on its own: tests/fuzz/). Values convert as the CSV reader converts a
// column whose type is forced to the training type (same missing markers, same number and
// date parsers), so that the endpoint and batch predict see the same table for the same rows.
//
// Accepted bodies:
//   text/csv               records without a header row, one per line, the training columns
//                          without the target in training order (RFC 4180 quoting).
//   application/json       {"instances": [I, ...]} where each instance I is an array of values
//                          in training order, {"features": [values...]}, or an object keyed by
//                          column name.
//   application/jsonlines  one instance per line: an array of values or an object by column
//                          name (or {"features": [...]}).
// In objects by column name an absent column is a missing value, the target column is ignored
// and any other unknown name is an error. JSON numbers, strings (read as CSV text is read),
// booleans (1/0 for a numeric column, "true"/"false" otherwise) and null (missing) are values.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tabpilot/data/table.h"

namespace tabpilot::serve {

// A payload the endpoint cannot read: answered with 400 and this message.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a request must look like: the model's input columns.
struct InputSchema {
  std::vector<std::string> names;  // training order, without the target
  std::vector<ColumnType> types;   // parallel to names
  std::string target;              // ignored when it appears in an object by column name
  std::vector<std::string> missing_markers = {"", "?", "NA", "N/A", "NaN", "nan", "null",
                                              "NULL", "None"};
};

// Builds one request's Table a value at a time. Reused across requests by one worker thread:
// reset() keeps the columns' capacity, so a steady stream of requests does not allocate.
class TableBuilder {
 public:
  explicit TableBuilder(const InputSchema& schema);
  void reset();
  const InputSchema& schema() const { return *schema_; }

  // The value of column `col` in the current record, as text (trimmed of blanks by the
  // caller; a missing marker is missing). Throws BadRequest naming record and column when a
  // numeric or datetime column cannot read it.
  void add_text(size_t col, std::string_view value);
  void add_number(size_t col, double value);  // a JSON number
  void add_missing(size_t col);
  // Closes the current record; every column must have received exactly one value.
  void end_record();
  size_t records() const { return table_.num_rows; }
  const Table& table() const { return table_; }

  // "record 3, column 'bill_length_mm'": 1-based record of the current record.
  std::string where(size_t col) const;

  std::string scratch;  // unescaped quoted CSV fields

 private:
  bool is_missing(std::string_view value) const;
  int32_t category_code(Column& column, std::string_view value);

  const InputSchema* schema_;
  Table table_;
  std::vector<std::unordered_map<std::string, int32_t>> dictionaries_;  // per column
};

// Each appends the payload's records to `out` (after out.reset()) or throws BadRequest.
void parse_csv_body(std::string_view body, TableBuilder& out);
void parse_json_body(std::string_view body, TableBuilder& out);
void parse_jsonlines_body(std::string_view body, TableBuilder& out);

}  // namespace tabpilot::serve
