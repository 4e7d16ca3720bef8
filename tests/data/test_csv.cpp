// RFC 4180 parsing and every InputError the CSV reader promises, with the line and column
// each message must name.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_paths.h"
#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"

namespace tabpilot {
namespace {

using testing::write_temp_file;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

Table parse(const std::string& text, const CsvOptions& options = {}) {
  return parse_csv(text, "t.csv", options);
}

TEST(Csv, ReadsHeaderAndNumericColumns) {
  Table t = parse("a,b\n1,2.5\n3,-4e2\n");
  ASSERT_EQ(t.num_rows, 2u);
  ASSERT_EQ(t.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.columns[0].type, ColumnType::kNumeric);
  EXPECT_EQ(t.columns[0].numeric, (std::vector<float>{1, 3}));
  EXPECT_EQ(t.columns[1].numeric, (std::vector<float>{2.5f, -400.0f}));
}

TEST(Csv, QuotedFieldsHoldDelimitersNewlinesAndDoubledQuotes) {
  Table t = parse(
      "name,note\n"
      "\"Smith, J\",\"line one\nline two\"\n"
      "\"say \"\"hi\"\"\",plain\n"
      "\"\",\"x\"\n");
  ASSERT_EQ(t.num_rows, 3u);
  const Column& name = t.at("name");
  const Column& note = t.at("note");
  EXPECT_EQ(name.value_string(0), "Smith, J");
  EXPECT_EQ(note.value_string(0), "line one\nline two");
  EXPECT_EQ(name.value_string(1), "say \"hi\"");
  EXPECT_TRUE(name.is_missing(2));  // "" is the empty value, a missing marker
  EXPECT_EQ(note.value_string(2), "x");
}

TEST(Csv, CrlfBomAndTrimmedValues) {
  Table t = parse("\xEF\xBB\xBFid , v\r\n  a  , 1 \r\nb,\t2\r\n");
  ASSERT_EQ(t.names(), (std::vector<std::string>{"id", "v"}));
  EXPECT_EQ(t.columns[0].value_string(0), "a");
  EXPECT_EQ(t.columns[1].numeric, (std::vector<float>{1, 2}));
}

TEST(Csv, QuotesKeepInnerSpacesAndSkipBlankLines) {
  Table t = parse("k,v\n  \" a \" ,1\n\n\nb,2\n");
  ASSERT_EQ(t.num_rows, 2u);
  EXPECT_EQ(t.columns[0].value_string(0), " a ");
  EXPECT_EQ(t.columns[0].value_string(1), "b");
}

TEST(Csv, LastLineWithoutNewline) {
  Table t = parse("a,b\n1,2\n3,4");
  ASSERT_EQ(t.num_rows, 2u);
  EXPECT_EQ(t.columns[1].numeric[1], 4.0f);
}

TEST(Csv, DefaultAndCustomMissingMarkers) {
  Table t = parse("a,b\n1,x\nNA,?\n,y\nnull,-999\n");
  EXPECT_TRUE(std::isnan(t.columns[0].numeric[1]));
  EXPECT_TRUE(std::isnan(t.columns[0].numeric[2]));
  EXPECT_TRUE(std::isnan(t.columns[0].numeric[3]));
  EXPECT_EQ(t.columns[0].missing_count(), 3u);
  EXPECT_EQ(t.columns[1].missing_count(), 1u);  // "?"; -999 is a value by default

  CsvOptions options;
  options.missing_markers = {"-999"};
  Table u = parse("a\n1\n-999\nNA\n", options);
  EXPECT_EQ(u.columns[0].type, ColumnType::kCategorical);  // "NA" is now a value
  EXPECT_TRUE(u.columns[0].is_missing(1));
  EXPECT_EQ(u.columns[0].value_string(2), "NA");
}

TEST(Csv, QuotedNewlineKeepsPhysicalLineNumbers) {
  // The record on line 4 starts after a quoted field spanning lines 2-3.
  std::string msg = error_of([] { parse("a,b\n\"x\ny\",1\n1,2,3\n"); });
  EXPECT_NE(msg.find("t.csv:4:"), std::string::npos) << msg;
}

TEST(Csv, RaggedRowNamesLineAndCounts) {
  std::string msg = error_of([] { parse("a,b,c\n1,2,3\n4,5\n"); });
  EXPECT_NE(msg.find("t.csv:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 3 fields"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found 2"), std::string::npos) << msg;
  msg = error_of([] { parse("a,b\r\n1,2\r\n\r\n3,4,5\r\n"); });
  EXPECT_NE(msg.find("t.csv:4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found 3"), std::string::npos) << msg;
}

TEST(Csv, UnterminatedQuoteNamesOpeningLine) {
  std::string msg = error_of([] { parse("a,b\n1,2\n3,\"open\n4,5\n"); });
  EXPECT_NE(msg.find("t.csv:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unterminated"), std::string::npos) << msg;
}

TEST(Csv, InvalidUtf8NamesLine) {
  std::string msg = error_of([] { parse("a,b\n1,caf\xC3\xA9\n2,bad\xFF\n"); });
  EXPECT_NE(msg.find("t.csv:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
  // Overlong encoding of '/' and a lone continuation byte are rejected too.
  EXPECT_NE(error_of([] { parse("a\n\xC0\xAF\n"); }).find("t.csv:2:"), std::string::npos);
  EXPECT_NE(error_of([] { parse("a\nx\n\x80\n"); }).find("t.csv:3:"), std::string::npos);
  // Valid multi-byte text passes.
  Table t = parse("a\n\xE6\x97\xA5\xE6\x9C\xAC\n\xF0\x9F\x98\x80\n");
  EXPECT_EQ(t.columns[0].value_string(0), "\xE6\x97\xA5\xE6\x9C\xAC");
}

TEST(Csv, HeaderErrors) {
  std::string msg = error_of([] { parse("a,b,a\n1,2,3\n"); });
  EXPECT_NE(msg.find("t.csv:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("duplicate column name 'a'"), std::string::npos) << msg;
  msg = error_of([] { parse("a,,c\n1,2,3\n"); });
  EXPECT_NE(msg.find("t.csv:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column 2 has an empty name"), std::string::npos) << msg;
  msg = error_of([] { parse("a,b\n"); });
  EXPECT_NE(msg.find("t.csv:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no data rows"), std::string::npos) << msg;
  msg = error_of([] { parse(""); });
  EXPECT_NE(msg.find("t.csv:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { parse("\xEF\xBB\xBF\r\n\n"); }).find("empty"), std::string::npos);
}

TEST(Csv, TenThousandColumnsIsACleanError) {
  std::string header, row;
  for (int c = 0; c < 10000; ++c) {
    header += (c ? ",c" : "c") + std::to_string(c);
    row += c ? ",1" : "1";
  }
  auto path = write_temp_file("wide.csv", header + "\n" + row + "\n");
  std::string msg = error_of([&] { read_csv(path.string()); });
  EXPECT_NE(msg.find(":1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10000 columns"), std::string::npos) << msg;
  EXPECT_NE(msg.find("5000"), std::string::npos) << msg;
  CsvOptions options;
  options.max_columns = 20000;
  Table t = read_csv(path.string(), options);
  EXPECT_EQ(t.columns.size(), 10000u);
}

TEST(Csv, InfinityInNumericColumnNamesLineAndColumn) {
  std::string msg = error_of([] { parse("a,score\n1,2\n2,inf\n3,4\n"); });
  EXPECT_NE(msg.find("t.csv:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'score'"), std::string::npos) << msg;
  msg = error_of([] { parse("score\n1\n2\n-inf\n"); });
  EXPECT_NE(msg.find("t.csv:4:"), std::string::npos) << msg;
  msg = error_of([] { parse("score\n1\n1e999\n"); });  // overflows to infinity
  EXPECT_NE(msg.find("t.csv:3:"), std::string::npos) << msg;
  // In a column of words, "inf" is just another category.
  Table t = parse("w\ninf\nabc\n");
  EXPECT_EQ(t.columns[0].type, ColumnType::kCategorical);
}

TEST(Csv, FileErrors) {
  std::string msg = error_of([] { read_csv("/nonexistent/dir/x.csv"); });
  EXPECT_NE(msg.find("/nonexistent/dir/x.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  auto empty = write_temp_file("empty.csv", "");
  msg = error_of([&] { read_csv(empty.string()); });
  EXPECT_NE(msg.find(empty.string() + ":1:"), std::string::npos) << msg;
  auto header_only = write_temp_file("h.csv", "a,b\r\n");
  msg = error_of([&] { read_csv(header_only.string()); });
  EXPECT_NE(msg.find(header_only.string() + ":2:"), std::string::npos) << msg;
  msg = error_of([&] { read_csv(empty.parent_path().string()); });
  EXPECT_NE(msg.find("directory"), std::string::npos) << msg;
}

TEST(Csv, OtherDelimiter) {
  CsvOptions options;
  options.delimiter = ';';
  Table t = parse("a;b\n1,5;x\n", options);  // "1,5" is not a number
  EXPECT_EQ(t.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(t.columns[0].value_string(0), "1,5");
}

TEST(Csv, TabDelimiterAndQuotedHeaderNames) {
  CsvOptions options;
  options.delimiter = '\t';
  Table t = parse("\"a \"\"b\"\"\"\tc d\n1\t x y \n\tz\n", options);
  ASSERT_EQ(t.names(), (std::vector<std::string>{"a \"b\"", "c d"}));
  EXPECT_EQ(t.columns[1].value_string(0), "x y");  // spaces trimmed, tabs delimit
  EXPECT_TRUE(t.columns[0].is_missing(1));
  EXPECT_EQ(t.columns[1].value_string(1), "z");
}

TEST(Csv, TextAfterClosingQuoteIsKept) {
  Table t = parse("a,b\n\"ab\"cd,1\n");
  EXPECT_EQ(t.columns[0].value_string(0), "abcd");
}

TEST(Csv, WriteThenReadRoundTrips) {
  Table t = parse(
      "num,cat,when\n"
      "0.1,\"a, b\",2020-01-02\n"
      ",\"say \"\"x\"\"\",2021-03-04T05:06:07Z\n"
      "-3.25,\" pad \",\n");
  auto dir = testing::scratch_dir("csv");
  write_csv(t, (dir / "out.csv").string());
  Table u = read_csv((dir / "out.csv").string());
  ASSERT_EQ(u.num_rows, 3u);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(u.columns[c].type, t.columns[c].type) << c;
    for (size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(u.columns[c].value_string(r), t.columns[c].value_string(r)) << c << "," << r;
    }
  }
  EXPECT_EQ(u.columns[0].numeric[0], 0.1f);
}

}  // namespace
}  // namespace tabpilot

namespace tabpilot {
namespace {

// A file larger than the reader's 32 MB release step: converted text pages of the mapping
// are dropped while reading, and a column that turns out not to be numeric in its last row
// must still re-read every earlier value correctly from the file.
TEST(Csv, LargeMappedFileRetypesLateFromReleasedPages) {
  auto path = testing::scratch_dir("csv-large") / "big.csv";
  const size_t rows = 1200000;  // ~40 MB
  {
    std::ofstream out(path, std::ios::binary);
    out << "id_like,x,label,note\n";
    std::string line;
    for (size_t i = 0; i < rows; ++i) {
      line = "r" + std::to_string(i % 1000) + "," + std::to_string(i % 977) + ".25,";
      // The last 20,000 rows hold words: more than the 1% a numeric column reads as missing.
      line += (i + 1 == rows) ? "late-word" : (i + 20000 >= rows ? "w" : std::to_string(i % 7));
      out << line << ",some padding to make the file larger\n";
    }
  }
  ASSERT_GT(std::filesystem::file_size(path), size_t{33} << 20);
  Table t = read_csv(path.string());
  ASSERT_EQ(t.num_rows, rows);
  const Column& x = t.at("x");
  ASSERT_EQ(x.type, ColumnType::kNumeric);
  EXPECT_FLOAT_EQ(x.numeric[0], 0.25f);
  EXPECT_FLOAT_EQ(x.numeric[rows - 1], float((rows - 1) % 977) + 0.25f);
  const Column& label = t.at("label");
  ASSERT_EQ(label.type, ColumnType::kCategorical);  // retyped by its last row
  for (size_t i : {size_t{0}, size_t{12345}, rows / 2, rows - 20001})
    EXPECT_EQ(label.value_string(i), std::to_string(i % 7)) << "row " << i;
  EXPECT_EQ(label.value_string(rows - 2), "w");
  EXPECT_EQ(label.value_string(rows - 1), "late-word");
}

}  // namespace
}  // namespace tabpilot
