// Feature transforms: fitted on training rows only, applied identically to new tables,
// checked against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "support/columns.h"
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops.h"
#include "tabpilot/trainer/features.h"

namespace tabpilot {
namespace {

Column numeric(const std::string& name, std::vector<float> v) {
  return testing::numeric_column(name, std::move(v));
}

Column categorical(const std::string& name, const std::vector<std::string>& values) {
  return testing::categorical_column(name, values);
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = i;
  return r;
}

TEST(Features, NumericMedianImputeStandardScaleAndIndicator) {
  Table t;
  t.columns = {numeric("x", {1, 2, NAN, 5, 100})};
  t.num_rows = 5;
  FeatureTransform f;
  // Fit on the first four rows only: the 100 must not influence anything.
  f.fit(t, {"x"}, {0, 1, 2, 3}, FeatureRecipe{});
  ASSERT_EQ(f.width(), 2u);
  EXPECT_EQ(f.output_names()[1], "x__missing");
  // present values 1, 2, 5: median 2, mean 8/3, population sd sqrt(26/9)
  const double mean = 8.0 / 3, sd = std::sqrt((std::pow(1 - mean, 2) + std::pow(2 - mean, 2) +
                                               std::pow(5 - mean, 2)) / 3);
  Matrix m = f.transform(t);
  EXPECT_NEAR(m.at(0, 0), (1 - mean) / sd, 1e-5);
  EXPECT_NEAR(m.at(2, 0), (2 - mean) / sd, 1e-5);  // imputed with the median
  EXPECT_EQ(m.at(2, 1), 1.0f);
  EXPECT_EQ(m.at(0, 1), 0.0f);
  EXPECT_NEAR(m.at(4, 0), (100 - mean) / sd, 1e-3);
}

TEST(Features, RobustScalingUsesMedianAndIqr) {
  Table t;
  t.columns = {numeric("x", {1, 2, 3, 4, 5, 6, 7, 8, 9})};
  t.num_rows = 9;
  FeatureRecipe r;
  r.scaling = FeatureRecipe::Scaling::kRobust;
  FeatureTransform f;
  f.fit(t, {"x"}, iota(9), r);
  Matrix m = f.transform(t);
  // median 5, q25 3, q75 7 (nearest rank on 9 values): IQR 4
  EXPECT_NEAR(m.at(0, 0), (1 - 5) / 4.0, 1e-6);
  EXPECT_NEAR(m.at(8, 0), (9 - 5) / 4.0, 1e-6);
}

TEST(Features, OneHotKeepsFrequentCategoriesAndRoutesRareAndUnseenToOther) {
  std::vector<std::string> values;
  for (int i = 0; i < 12; ++i) values.push_back("a");
  for (int i = 0; i < 10; ++i) values.push_back("b");
  for (int i = 0; i < 3; ++i) values.push_back("rare");
  values.push_back("");
  Table t;
  t.columns = {categorical("c", values)};
  t.num_rows = values.size();
  FeatureTransform f;
  f.fit(t, {"c"}, iota(values.size()), FeatureRecipe{});
  ASSERT_EQ(f.output_names(), (std::vector<std::string>{"c=a", "c=b", "c=__other__", "c__missing"}));

  // A new table with its own dictionary order and an unseen value.
  Table n;
  n.columns = {categorical("c", {"b", "zzz", "a", "", "rare"})};
  n.num_rows = 5;
  Matrix m = f.transform(n);
  auto row = [&](size_t r) { return std::vector<float>(m.row(r), m.row(r) + 4); };
  EXPECT_EQ(row(0), (std::vector<float>{0, 1, 0, 0}));
  EXPECT_EQ(row(1), (std::vector<float>{0, 0, 1, 0}));  // unseen -> other
  EXPECT_EQ(row(2), (std::vector<float>{1, 0, 0, 0}));
  EXPECT_EQ(row(3), (std::vector<float>{0, 0, 0, 1}));  // missing -> indicator
  EXPECT_EQ(row(4), (std::vector<float>{0, 0, 1, 0}));  // rare -> other
}

TEST(Features, OrdinalCodesByFrequencyWithMissingLeftAsNaN) {
  Table t;
  t.columns = {categorical("c", {"x", "y", "y", "", "y", "x", "z"})};
  t.num_rows = 7;
  FeatureRecipe r;
  r.categorical = FeatureRecipe::Categorical::kOrdinal;
  FeatureTransform f;
  f.fit(t, {"c"}, iota(7), r);
  Table n;
  n.columns = {categorical("c", {"y", "x", "z", "new", ""})};
  n.num_rows = 5;
  Matrix m = f.transform(n);
  EXPECT_EQ(m.at(0, 0), 0.0f);  // y: most frequent
  EXPECT_EQ(m.at(1, 0), 1.0f);
  EXPECT_EQ(m.at(2, 0), 2.0f);
  EXPECT_EQ(m.at(3, 0), 3.0f);  // unseen -> other
  EXPECT_TRUE(std::isnan(m.at(4, 0)));
}

TEST(Features, DatetimePartsDropConstantsAndEncodeCyclically) {
  Column c;
  c.name = "when";
  c.type = ColumnType::kDatetime;
  // 2021-03-01 00:00, 2021-06-15 00:00, 2022-12-31 00:00 UTC: hour and minute constant.
  c.epoch_seconds = {1614556800.0, 1623715200.0, 1672444800.0};
  Table t;
  t.columns = {c};
  t.num_rows = 3;
  FeatureTransform f;
  f.fit(t, {"when"}, iota(3), FeatureRecipe{});
  for (const auto& n : f.output_names()) {
    EXPECT_EQ(n.find("hour"), std::string::npos) << n;
    EXPECT_EQ(n.find("minute"), std::string::npos) << n;
  }
  auto it = std::find(f.output_names().begin(), f.output_names().end(), "when__month_sin");
  ASSERT_NE(it, f.output_names().end());
  size_t col = static_cast<size_t>(it - f.output_names().begin());
  Matrix m = f.transform(t);
  EXPECT_NEAR(m.at(1, col), std::sin(2 * M_PI * 6 / 12), 1e-5);   // June
  EXPECT_NEAR(m.at(1, col + 1), std::cos(2 * M_PI * 6 / 12), 1e-5);
}

TEST(Features, DatePartKernelMatchesKnownCalendar) {
  // 2024-02-29 13:45:30 UTC (a Thursday, day 60 of a leap year)
  double t = 1709214330.0;
  float v;
  date_part_cpu(&t, 1, DatePart::kYear, &v, 1);
  EXPECT_EQ(v, 2024);
  date_part_cpu(&t, 1, DatePart::kMonth, &v, 1);
  EXPECT_EQ(v, 2);
  date_part_cpu(&t, 1, DatePart::kDay, &v, 1);
  EXPECT_EQ(v, 29);
  date_part_cpu(&t, 1, DatePart::kWeekday, &v, 1);
  EXPECT_EQ(v, 3);
  date_part_cpu(&t, 1, DatePart::kYearDay, &v, 1);
  EXPECT_EQ(v, 60);
  date_part_cpu(&t, 1, DatePart::kHour, &v, 1);
  EXPECT_EQ(v, 13);
  date_part_cpu(&t, 1, DatePart::kMinute, &v, 1);
  EXPECT_EQ(v, 45);
  double before = -86400.0;  // 1969-12-31, a Wednesday
  date_part_cpu(&before, 1, DatePart::kWeekday, &v, 1);
  EXPECT_EQ(v, 2);
  date_part_cpu(&before, 1, DatePart::kYear, &v, 1);
  EXPECT_EQ(v, 1969);
}

TEST(Features, TextTfidfRowsAreUnitLength) {
  Column c;
  c.name = "note";
  c.type = ColumnType::kText;
  c.text = {"the quick brown fox", "the lazy dog", "", "quick quick dog"};
  c.text_missing = {0, 0, 1, 0};
  Table t;
  t.columns = {c};
  t.num_rows = 4;
  FeatureRecipe r;
  r.text_hash_width = 64;
  FeatureTransform f;
  f.fit(t, {"note"}, iota(4), r);
  Matrix m = f.transform(t);
  for (size_t row : {0u, 1u, 3u}) {
    double norm = 0;
    for (size_t j = 0; j < m.cols(); ++j) norm += m.at(row, j) * m.at(row, j);
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  for (size_t j = 0; j < m.cols(); ++j) EXPECT_EQ(m.at(2, j), 0.0f);
  // Same words hash to the same bucket whatever the case.
  EXPECT_EQ(hash_tokens("Quick", 64), hash_tokens("quick", 64));
}

TEST(Features, JsonRoundTripTransformsIdentically) {
  Table t;
  t.columns = {numeric("x", {1, NAN, 3, 4}), categorical("c", {"a", "b", "a", ""})};
  t.num_rows = 4;
  FeatureRecipe r;
  r.min_category_count = 1;
  FeatureTransform f;
  f.fit(t, {"x", "c"}, iota(4), r);
  FeatureTransform g = FeatureTransform::from_json(nlohmann::json::parse(f.to_json().dump()));
  Matrix a = f.transform(t), b = g.transform(t);
  ASSERT_EQ(a.cols(), b.cols());
  for (size_t i = 0; i < a.rows() * a.cols(); ++i) EXPECT_EQ(a.data()[i], b.data()[i]);
  EXPECT_EQ(f.output_names(), g.output_names());
}

TEST(Features, MissingOrRetypedColumnIsAnInputError) {
  Table t;
  t.columns = {numeric("x", {1, 2, 3})};
  t.num_rows = 3;
  FeatureTransform f;
  f.fit(t, {"x"}, iota(3), FeatureRecipe{});
  Table other;
  other.columns = {numeric("y", {1})};
  other.num_rows = 1;
  EXPECT_THROW(f.transform(other), InputError);
  Table retyped;
  retyped.columns = {categorical("x", {"a"})};
  retyped.num_rows = 1;
  EXPECT_THROW(f.transform(retyped), InputError);
}

}  // namespace
}  // namespace tabpilot
