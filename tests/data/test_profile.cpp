// Column profiles, duplicate rows, warnings and target analysis against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/data/profile.h"

namespace tabpilot {
namespace {

bool has_warning(const std::vector<Warning>& ws, const std::string& code,
                 const std::string& column) {
  for (const Warning& w : ws) {
    if (w.code == code && w.column == column) return true;
  }
  return false;
}

Table sample() {
  return parse_csv(
      "x,c,t,k,m\n"
      "1,a,2020-01-01,z,\n"
      "2,b,2020-01-03,z,5\n"
      "3,a,,z,\n"
      "4,,2020-01-02,z,6\n"
      "1,a,2020-01-01,z,\n",
      "p.csv");
}

TEST(Profile, NumericStatistics) {
  DataProfile p = profile_table(sample());
  EXPECT_EQ(p.rows, 5u);
  EXPECT_EQ(p.columns, 5u);
  const ColumnProfile& x = p.column_profiles[0];
  EXPECT_EQ(x.type, ColumnType::kNumeric);
  EXPECT_EQ(x.missing, 0u);
  EXPECT_EQ(x.distinct, 4u);
  EXPECT_DOUBLE_EQ(x.min, 1);
  EXPECT_DOUBLE_EQ(x.max, 4);
  EXPECT_DOUBLE_EQ(x.mean, 2.2);
  // Squared deviations 1.44+1.44+0.04+0.64+3.24 = 6.8 over n-1 = 4.
  EXPECT_DOUBLE_EQ(x.std, std::sqrt(1.7));
  // Sorted 1,1,2,3,4: ranks 1, 2 and 3 of 0..4.
  EXPECT_DOUBLE_EQ(x.p25, 1);
  EXPECT_DOUBLE_EQ(x.p50, 2);
  EXPECT_DOUBLE_EQ(x.p75, 3);
}

TEST(Profile, CategoricalAndDatetime) {
  DataProfile p = profile_table(sample());
  const ColumnProfile& c = p.column_profiles[1];
  EXPECT_EQ(c.type, ColumnType::kCategorical);
  EXPECT_EQ(c.missing, 1u);
  EXPECT_DOUBLE_EQ(c.missing_fraction, 0.2);
  EXPECT_EQ(c.distinct, 2u);
  ASSERT_EQ(c.top_values.size(), 2u);
  EXPECT_EQ(c.top_values[0], (std::pair<std::string, size_t>{"a", 3}));
  EXPECT_EQ(c.top_values[1], (std::pair<std::string, size_t>{"b", 1}));
  EXPECT_TRUE(std::isnan(c.mean));

  const ColumnProfile& t = p.column_profiles[2];
  EXPECT_EQ(t.type, ColumnType::kDatetime);
  const double day = 86400;
  EXPECT_DOUBLE_EQ(t.min, 18262 * day);  // 2020-01-01
  EXPECT_DOUBLE_EQ(t.max, 18264 * day);
  EXPECT_DOUBLE_EQ(t.p50, 18262.5 * day);  // between the 2nd and 3rd of 62,62,63,64
  EXPECT_EQ(t.distinct, 3u);
}

TEST(Profile, WarningsAndDuplicates) {
  DataProfile p = profile_table(sample());
  EXPECT_EQ(p.duplicate_rows, 1u);  // the last row repeats the first
  EXPECT_TRUE(has_warning(p.warnings, "duplicate_rows", ""));
  EXPECT_TRUE(has_warning(p.warnings, "constant_column", "k"));
  EXPECT_TRUE(has_warning(p.warnings, "mostly_missing", "m"));  // 3 of 5
  EXPECT_FALSE(has_warning(p.warnings, "mostly_missing", "c"));
  EXPECT_FALSE(has_warning(p.warnings, "constant_column", "x"));
}

TEST(Profile, DuplicatesCompareMissingAsEqualAndNeedEveryColumn) {
  Table t = parse_csv("a,b\n1,\n1,\n1,2\n2,2\n1,2\n1,\n", "d.csv");
  EXPECT_EQ(profile_table(t).duplicate_rows, 3u);  // rows 1, 4 and 5 repeat rows 0 and 2
}

TEST(Profile, IdLikeWarningAndTopValuesLimit) {
  std::string csv = "user_code,city\n";
  for (int i = 0; i < 30; ++i) {
    csv += "U" + std::to_string(i) + ",c" + std::to_string(i % 12) + "\n";
  }
  DataProfile p = profile_table(parse_csv(csv, "i.csv"));
  EXPECT_EQ(p.column_profiles[0].type, ColumnType::kIdLike);
  EXPECT_EQ(p.column_profiles[0].distinct, 30u);
  EXPECT_TRUE(has_warning(p.warnings, "id_like_column", "user_code"));
  const auto& top = p.column_profiles[1].top_values;
  ASSERT_EQ(top.size(), 10u);
  // c0..c5 appear 3 times, c6..c11 twice; ties keep first-appearance order.
  EXPECT_EQ(top[0], (std::pair<std::string, size_t>{"c0", 3}));
  EXPECT_EQ(top[5], (std::pair<std::string, size_t>{"c5", 3}));
  EXPECT_EQ(top[6], (std::pair<std::string, size_t>{"c6", 2}));
}

TEST(Profile, JsonHasNullForMissingStatistics) {
  Table t = parse_csv("a,b\n,x\nNA,y\n", "j.csv");
  nlohmann::json j = profile_table(t).to_json();
  EXPECT_EQ(j["rows"], 2);
  EXPECT_EQ(j["column_profiles"][0]["type"], "numeric");
  EXPECT_TRUE(j["column_profiles"][0]["min"].is_null());
  EXPECT_EQ(j["column_profiles"][1]["top_values"][0]["value"], "x");
  EXPECT_FALSE(j["warnings"].empty());
  EXPECT_NO_THROW((void)j.dump());
}

TEST(Profile, ClassificationTarget) {
  Column y;
  y.name = "y";
  y.type = ColumnType::kCategorical;
  y.categories = {"a", "b", "c"};
  for (int i = 0; i < 20; ++i) y.codes.push_back(0);
  y.codes.push_back(1);
  for (int i = 0; i < 5; ++i) y.codes.push_back(2);
  y.codes.push_back(-1);
  y.codes.push_back(-1);
  std::vector<Warning> warnings;
  nlohmann::json j = analyze_target(y, Task::kMulticlass, warnings);
  EXPECT_EQ(j["rows"], 26);
  EXPECT_EQ(j["missing"], 2);
  ASSERT_EQ(j["classes"].size(), 3u);
  EXPECT_EQ(j["classes"][0]["label"], "a");
  EXPECT_EQ(j["classes"][0]["count"], 20);
  EXPECT_EQ(j["classes"][1]["label"], "c");
  EXPECT_EQ(j["classes"][2]["label"], "b");
  EXPECT_DOUBLE_EQ(j["classes"][1]["fraction"].get<double>(), 5.0 / 26);
  EXPECT_DOUBLE_EQ(j["imbalance_ratio"].get<double>(), 1.0 / 20);
  EXPECT_TRUE(has_warning(warnings, "class_imbalance", "y"));
  EXPECT_TRUE(has_warning(warnings, "tiny_class", "y"));
  EXPECT_TRUE(has_warning(warnings, "dropped_missing_target", "y"));

  // 2 of 10 is a ratio of 0.2: no imbalance, no tiny class, nothing missing.
  Column z = y;
  z.codes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  z.categories = {"p", "q"};
  std::vector<Warning> none;
  analyze_target(z, Task::kBinary, none);
  EXPECT_TRUE(none.empty());
}

TEST(Profile, RegressionTargetSummaryAndHistogram) {
  Column y;
  y.name = "price";
  y.type = ColumnType::kNumeric;
  for (int i = 0; i <= 20; ++i) y.numeric.push_back(static_cast<float>(20 - i));
  std::vector<Warning> warnings;
  nlohmann::json j = analyze_target(y, Task::kRegression, warnings);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(j["std"].get<double>(), std::sqrt(770.0 / 20));  // 2*(1+4+...+100)/20
  EXPECT_DOUBLE_EQ(j["p50"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(j["p25"].get<double>(), 5);
  const auto counts = j["histogram"]["counts"].get<std::vector<size_t>>();
  const auto edges = j["histogram"]["edges"].get<std::vector<double>>();
  ASSERT_EQ(counts.size(), 20u);
  ASSERT_EQ(edges.size(), 21u);
  for (int b = 0; b < 19; ++b) EXPECT_EQ(counts[b], 1u) << b;  // width 1: one integer each
  EXPECT_EQ(counts[19], 2u);                                   // the last bin holds 19 and 20
  EXPECT_DOUBLE_EQ(edges[7], 7);
  EXPECT_TRUE(warnings.empty());

  Column words;
  words.name = "w";
  words.type = ColumnType::kCategorical;
  words.codes = {0, 1};
  words.categories = {"a", "b"};
  EXPECT_THROW(analyze_target(words, Task::kRegression, warnings), InputError);
}

}  // namespace
}  // namespace tabpilot
