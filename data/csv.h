// RFC 4180 CSV ingestion with column type inference. Reads the whole file into memory
// once, splits fields in one pass, then converts each column to its inferred type.
#pragma once
#include <map>
#include <string_view>
#include <string>
#include <vector>

#include "tabpilot/data/table.h"

namespace tabpilot {

struct CsvOptions {
  char delimiter = ',';
  // Cell values (after trimming) read as missing. Comparison is exact (case-sensitive).
  std::vector<std::string> missing_markers = {"", "?", "NA", "N/A", "NaN", "nan", "null",
                                              "NULL", "None"};
  // Forced types by column name; others are inferred. An override that names no column is
  // a warning, or an InputError naming `override_option` when that is set (the user's own
  // --column-type, where a typo must not pass silently).
  std::map<std::string, ColumnType> type_overrides;
  std::string override_option;
  // Columns the file must have: a missing one is an InputError naming it (with
  // required_note appended), raised before any value is converted.
  std::vector<std::string> required_columns;
  std::string required_note;
  // Columns never classified as ID-like (e.g. the target).
  std::vector<std::string> never_id;
  size_t max_columns = 5000;  // more is an InputError naming the limit and the count
  // Inference looks at up to this many non-missing values per column.
  size_t inference_sample = 100000;
};

// Reads and types a CSV file with a header row. Throws InputError with "path:line: ..." for
// a missing/empty/header-only file, a ragged row, an unterminated quote, bytes that are not
// UTF-8, duplicate or empty column names, or too many columns. "inf"/"-inf" values in a
// numeric column are an InputError naming line and column.
Table read_csv(const std::string& path, const CsvOptions& options = {});

// Same, from an in-memory buffer; `source_name` is used in error messages.
Table parse_csv(std::string_view text, const std::string& source_name,
                const CsvOptions& options = {});

// Appends one field to a CSV line, quoted (RFC 4180) where it needs to be.
void append_csv_field(std::string& out, std::string_view field);

// Writes a table with a header (RFC 4180 quoting where needed). Used by tests and benches.
void write_csv(const Table& table, const std::string& path);

}  // namespace tabpilot
