// Column type inference: numeric, categorical, text, datetime and ID-like, the overrides,
// and the date arithmetic checked against a day-by-day count.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/data/type_inference.h"

namespace tabpilot {
namespace {

Table parse(const std::string& text, const CsvOptions& options = {}) {
  return parse_csv(text, "t.csv", options);
}

// n rows of one column, values from f(row).
template <class F>
std::string column_csv(const std::string& name, int n, F f) {
  std::string s = name + "\n";
  for (int i = 0; i < n; ++i) s += f(i) + "\n";
  return s;
}

TEST(Inference, CategoricalDictionaryInOrderOfFirstAppearance) {
  Table t = parse("c\nred\nblue\nred\n\ngreen\nNA\nblue\n");
  const Column& c = t.columns[0];
  ASSERT_EQ(c.type, ColumnType::kCategorical);
  EXPECT_EQ(c.categories, (std::vector<std::string>{"red", "blue", "green"}));
  EXPECT_EQ(c.codes, (std::vector<int32_t>{0, 1, 0, 2, -1, 1}));
}

TEST(Inference, NumericAcceptsSignsExponentsAndMissing) {
  Table t = parse("x\n+1.5\n-2\n.5\n1e3\nNaN\n007\n");
  const Column& c = t.columns[0];
  ASSERT_EQ(c.type, ColumnType::kNumeric);
  EXPECT_EQ(c.numeric[0], 1.5f);
  EXPECT_EQ(c.numeric[1], -2.0f);
  EXPECT_EQ(c.numeric[2], 0.5f);
  EXPECT_EQ(c.numeric[3], 1000.0f);
  EXPECT_TRUE(std::isnan(c.numeric[4]));
  EXPECT_EQ(c.numeric[5], 7.0f);
  EXPECT_EQ(parse("x\nNA\n\n").columns[0].type, ColumnType::kNumeric);  // all missing
}

// A stray token among numbers (at most 1% of the rows, at least one) is read as missing and
// reported with its line; more make the column categorical.
TEST(Inference, OneWordInANumericColumnIsReadAsMissingWithItsLine) {
  Table t = parse(column_csv(
      "x", 50, [](int i) { return i == 40 ? std::string("0x10") : std::to_string(i % 3); }));
  const Column& c = t.columns[0];
  ASSERT_EQ(c.type, ColumnType::kNumeric);
  EXPECT_TRUE(std::isnan(c.numeric[40]));
  EXPECT_EQ(c.numeric[41], 41 % 3);
  EXPECT_EQ(c.strays.count, 1u);
  EXPECT_EQ(c.strays.first, "0x10");
  EXPECT_EQ(c.strays.line, 42u);  // header on line 1, row 40 on line 42
}

TEST(Inference, MoreWordsThanOnePercentMakeItCategorical) {
  Table t = parse(column_csv("x", 50, [](int i) {
    return i == 10 || i == 40 ? std::string("n/a-ish") : std::to_string(i % 3);
  }));
  EXPECT_EQ(t.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(t.columns[0].categories[0], "0");
  EXPECT_EQ(t.columns[0].strays.count, 0u);
  // 1% of 1000 rows is 10: ten words stay strays, eleven do not.
  auto words = [](int n) {
    return parse(column_csv("x", 1000, [n](int i) {
      return i % 97 == 5 && i / 97 < n ? "w" + std::to_string(i) : std::to_string(i % 7);
    }));
  };
  EXPECT_EQ(words(10).columns[0].type, ColumnType::kNumeric);
  EXPECT_EQ(words(10).columns[0].strays.count, 10u);
  EXPECT_EQ(words(11).columns[0].type, ColumnType::kCategorical);
}

TEST(Inference, AWordBeforeAnyNumberIsAStrayToo) {
  Table t = parse(column_csv(
      "x", 300, [](int i) { return i == 0 ? std::string("0x10") : std::to_string(i % 9); }));
  ASSERT_EQ(t.columns[0].type, ColumnType::kNumeric);
  EXPECT_EQ(t.columns[0].strays.line, 2u);
  // A date first still makes a date column.
  Table d = parse(column_csv("d", 30, [](int i) { return "2020-01-" + std::to_string(10 + i % 19); }));
  EXPECT_EQ(d.columns[0].type, ColumnType::kDatetime);
}

TEST(Inference, LateNonNumberRetypesRowsAlreadyConverted) {
  // Rows are converted in blocks of roughly 256 KiB of text (tens of thousands of short
  // rows here); a word in the last row sends both columns back to row 0 as strings, and a
  // late date string sends the third back as well.
  const int n = 120000;
  std::string csv = "a,b,d\n";
  for (int i = 0; i < n - 1; ++i) {
    // The last 2000 rows of `a` are words: more than the 1% that could be strays.
    csv += (i >= n - 2001 ? std::string("x") : std::to_string(i % 3)) + "," +
           std::to_string(i % 2) + ",2020-01-0" + std::to_string(1 + i % 9) + "\n";
  }
  csv += "x,1,later\n";
  Table t = parse(csv);
  const Column& a = t.columns[0];
  ASSERT_EQ(a.type, ColumnType::kCategorical);
  EXPECT_EQ(a.categories, (std::vector<std::string>{"0", "1", "2", "x"}));
  for (int i = 0; i < n - 2001; i += 997) ASSERT_EQ(a.codes[i], i % 3) << i;
  EXPECT_EQ(a.codes[n - 1], 3);
  EXPECT_EQ(t.columns[1].type, ColumnType::kNumeric);
  EXPECT_EQ(t.columns[1].numeric[n - 2], static_cast<float>((n - 2) % 2));
  const Column& d = t.columns[2];
  ASSERT_EQ(d.type, ColumnType::kCategorical);
  EXPECT_EQ(d.categories.size(), 10u);
  EXPECT_EQ(d.value_string(10), "2020-01-02");
}

TEST(Inference, FreeTextIsText) {
  Table t = parse(column_csv(
      "review", 30, [](int i) { return "the product number " + std::to_string(i) + " was fine"; }));
  EXPECT_EQ(t.columns[0].type, ColumnType::kText);
  EXPECT_EQ(t.columns[0].text[3], "the product number 3 was fine");
  // Repeated multi-word labels are categories, not text.
  Table u = parse(column_csv("status", 30, [](int i) {
    return i % 2 ? std::string("not yet shipped") : std::string("shipped to customer");
  }));
  EXPECT_EQ(u.columns[0].type, ColumnType::kCategorical);
}

TEST(Inference, DistinctStringsOnEveryRowAreIdLike) {
  const auto csv = column_csv("sku", 25, [](int i) { return "SKU" + std::to_string(i * 7); });
  Table t = parse(csv);
  ASSERT_EQ(t.columns[0].type, ColumnType::kIdLike);
  EXPECT_EQ(t.columns[0].text[2], "SKU14");
  // Too few rows to tell: categorical.
  EXPECT_EQ(
      parse(column_csv("sku", 19, [](int i) { return "S" + std::to_string(i); })).columns[0].type,
      ColumnType::kCategorical);
  CsvOptions options;
  options.never_id = {"sku"};
  EXPECT_EQ(parse(csv, options).columns[0].type, ColumnType::kCategorical);
}

TEST(Inference, IntegerIdsNeedAnIdNameOrStepsOfOne) {
  // Shuffled distinct integers: ID-like only under an id-like name.
  auto shuffled = [](int i) { return std::to_string((i * 37) % 101); };
  EXPECT_EQ(parse(column_csv("customer_id", 30, shuffled)).columns[0].type, ColumnType::kIdLike);
  EXPECT_EQ(parse(column_csv("PassengerId", 30, shuffled)).columns[0].type, ColumnType::kIdLike);
  EXPECT_EQ(parse(column_csv("amount", 30, shuffled)).columns[0].type, ColumnType::kNumeric);
  // A row counter is ID-like whatever its name.
  Table t = parse(column_csv("Unnamed: 0", 30, [](int i) { return std::to_string(i + 5); }));
  ASSERT_EQ(t.columns[0].type, ColumnType::kIdLike);
  EXPECT_EQ(t.columns[0].text[0], "5");
  // Non-integers are never ID-like, even when named so.
  EXPECT_EQ(
      parse(column_csv("id", 30, [](int i) { return std::to_string(i) + ".5"; })).columns[0].type,
      ColumnType::kNumeric);  // 0.5, 1.5, ... step by one but are not integers
}

TEST(Inference, IdLikeNames) {
  for (const char* yes : {"id", "ID", "user_id", "customerID", "PassengerId", "key",
                          "record identifier", "order-id"}) {
    EXPECT_TRUE(detail::name_looks_like_id(yes)) << yes;
  }
  for (const char* no : {"paid", "PAID", "valid", "width", "monkey", "idle"}) {
    EXPECT_FALSE(detail::name_looks_like_id(no)) << no;
  }
}

TEST(Inference, OverridesForceTypes) {
  CsvOptions options;
  options.type_overrides = {{"zip", ColumnType::kCategorical}, {"n", ColumnType::kNumeric}};
  Table t = parse("zip,n\n02139,1\n10001,2\n02139,\n", options);
  ASSERT_EQ(t.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(t.columns[0].categories, (std::vector<std::string>{"02139", "10001"}));
  EXPECT_EQ(t.columns[1].type, ColumnType::kNumeric);
  // A forced numeric column reads one stray as missing; two in three rows are an error
  // naming the first.
  EXPECT_EQ(parse("zip,n\n1,x\n2,1\n3,2\n", options).columns[1].strays.count, 1u);
  try {
    parse("zip,n\n1,x\n2,y\n3,1\n", options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:2: column 'n'"), std::string::npos) << e.what();
  }
}

TEST(Inference, DatetimeFormatsConvertToUtcEpochSeconds) {
  // 2020-01-02 is day 18263 after 1970-01-01 (50 years with 12 leap days, plus 1).
  const double day = 18263 * 86400.0;
  Table t = parse(
      "when\n"
      "2020-01-02\n"
      "2020-01-02T03:04:05Z\n"
      "2020-01-02 03:04\n"
      "2020-01-02T03:04:05.25+01:00\n"
      "2020/01/02\n"
      "01/02/2020\n"
      "02.01.2020 03:04:05\n"
      "2020-01-02T03:04:05-0530\n"
      "NA\n");
  ASSERT_EQ(t.num_rows, 9u);
  const Column& c = t.columns[0];
  ASSERT_EQ(c.type, ColumnType::kDatetime);
  const double hms = 3 * 3600 + 4 * 60 + 5;
  EXPECT_EQ(c.epoch_seconds[0], day);
  EXPECT_EQ(c.epoch_seconds[1], day + hms);
  EXPECT_EQ(c.epoch_seconds[2], day + 3 * 3600 + 4 * 60);
  EXPECT_DOUBLE_EQ(c.epoch_seconds[3], day + hms + 0.25 - 3600);
  EXPECT_EQ(c.epoch_seconds[4], day);
  EXPECT_EQ(c.epoch_seconds[5], day);        // MM/DD/YYYY
  EXPECT_EQ(c.epoch_seconds[6], day + hms);  // DD.MM.YYYY
  EXPECT_EQ(c.epoch_seconds[7], day + hms + 5.5 * 3600);
  EXPECT_TRUE(std::isnan(c.epoch_seconds[8]));
  EXPECT_EQ(c.value_string(0), "2020-01-02");
  EXPECT_EQ(c.value_string(1), "2020-01-02T03:04:05Z");
}

TEST(Inference, InvalidDatesAreNotDates) {
  double s;
  for (const char* bad : {"2019-02-29", "2020-13-01", "2020-01-32", "2020-01-02T25:00", "2020-1-2",
                          "20200-01-02", "2020-01-02T03:04:05+", "13/01/2020", "2020-01-02x"}) {
    EXPECT_FALSE(detail::parse_datetime(bad, &s)) << bad;
  }
  EXPECT_TRUE(detail::parse_datetime("2020-02-29", &s));
  EXPECT_TRUE(detail::parse_datetime("1900-03-01", &s));
  EXPECT_EQ(parse("d\n2020-01-02\nsoon\n").columns[0].type, ColumnType::kCategorical);
}

TEST(Inference, CivilDaysMatchADayByDayCount) {
  // Walk forward and backward from 1970-01-01 one day at a time with month lengths.
  auto leap = [](int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  auto month_days = [&](int64_t y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
  };
  int64_t y = 1970;
  int m = 1, d = 1;
  for (int64_t days = 0; days < 160000; ++days) {  // to about 2408
    ASSERT_EQ(detail::days_from_civil(y, m, d), days) << y << "-" << m << "-" << d;
    int64_t yy;
    int mm, dd;
    detail::civil_from_days(days, &yy, &mm, &dd);
    ASSERT_EQ(yy * 10000 + mm * 100 + dd, y * 10000 + m * 100 + d);
    if (++d > month_days(y, m)) d = 1, ++m;
    if (m > 12) m = 1, ++y;
  }
  y = 1970, m = 1, d = 1;
  for (int64_t days = 0; days > -160000; --days) {  // back to about 1532
    ASSERT_EQ(detail::days_from_civil(y, m, d), days) << y << "-" << m << "-" << d;
    if (--d < 1) {
      if (--m < 1) m = 12, --y;
      d = month_days(y, m);
    }
  }
}

TEST(Inference, ColumnTypeNames) {
  for (ColumnType t : {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kText,
                       ColumnType::kDatetime, ColumnType::kIdLike}) {
    EXPECT_EQ(column_type_from_string(to_string(t)), t);
  }
  EXPECT_THROW(column_type_from_string("float"), InputError);
}

TEST(Inference, TakeAndValueString) {
  Table t = parse("x,c\n0.25,a\n3,b\n,a\n");
  Table s = t.take({2, 0});
  EXPECT_EQ(s.num_rows, 2u);
  EXPECT_EQ(s.columns[0].value_string(0), "");
  EXPECT_EQ(s.columns[0].value_string(1), "0.25");
  EXPECT_EQ(t.columns[0].value_string(1), "3");
  EXPECT_EQ(s.columns[1].value_string(0), "a");
  EXPECT_EQ(s.columns[1].categories, t.columns[1].categories);
  EXPECT_EQ(t.find("c"), 1);
  EXPECT_EQ(t.find("nope"), -1);
  EXPECT_THROW(t.at("nope"), InputError);
}

}  // namespace
}  // namespace tabpilot
