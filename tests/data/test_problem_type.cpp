// Each branch of the problem-type rule, at and around its thresholds.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tabpilot/common/error.h"
#include "tabpilot/data/problem_type.h"

namespace tabpilot {
namespace {

Column numeric(std::vector<float> v) {
  Column c;
  c.name = "y";
  c.type = ColumnType::kNumeric;
  c.numeric = std::move(v);
  return c;
}

Column categorical(std::vector<int32_t> codes, std::vector<std::string> cats) {
  Column c;
  c.name = "y";
  c.type = ColumnType::kCategorical;
  c.codes = std::move(codes);
  c.categories = std::move(cats);
  return c;
}

// `rows` values cycling through `distinct` integers.
Column cycling(size_t rows, size_t distinct) {
  std::vector<float> v(rows);
  for (size_t i = 0; i < rows; ++i) v[i] = static_cast<float>(i % distinct);
  return numeric(v);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ProblemType, TwoValuesAreBinaryWhateverTheirType) {
  EXPECT_EQ(detect_task(numeric({0, 1, 1, 0, kNaN})), Task::kBinary);
  EXPECT_EQ(detect_task(numeric({3.5f, 7.25f, 3.5f})), Task::kBinary);
  EXPECT_EQ(detect_task(categorical({0, 1, -1, 0}, {"yes", "no"})), Task::kBinary);
}

TEST(ProblemType, NonNumericWithMoreValuesIsMulticlass) {
  EXPECT_EQ(detect_task(categorical({0, 1, 2, 0, 1, 2}, {"a", "b", "c"})), Task::kMulticlass);
  Column text;
  text.name = "y";
  text.type = ColumnType::kText;
  text.text = {"x y z", "p q r", "s t u"};
  text.text_missing = {0, 0, 0};
  EXPECT_EQ(detect_task(text), Task::kMulticlass);
}

TEST(ProblemType, NumericTargetsWithMoreThanTwoValuesAreRegression) {
  // Integer counts and ratings are ordered quantities (see the rule in problem_type.cpp).
  EXPECT_EQ(detect_task(cycling(100, 10)), Task::kRegression);
  EXPECT_EQ(detect_task(cycling(2000, 7)), Task::kRegression);
  EXPECT_EQ(detect_task(cycling(100, 3)), Task::kRegression);
}

// looks_like_class_codes keeps AutoGluon's thresholds, so the job can warn.
TEST(ProblemType, ClassCodeTestAtOrBelow1000Rows) {
  // 100 rows: T = 0.1, so up to 10 distinct integers look like classes.
  EXPECT_TRUE(looks_like_class_codes(cycling(100, 10)));
  EXPECT_FALSE(looks_like_class_codes(cycling(100, 11)));
  // Exactly 1000 rows still uses T = 0.1.
  EXPECT_TRUE(looks_like_class_codes(cycling(1000, 100)));
  EXPECT_FALSE(looks_like_class_codes(cycling(1000, 101)));
}

TEST(ProblemType, ClassCodeTestAbove1000Rows) {
  // 2000 rows: T = 0.05, so up to 100 distinct.
  EXPECT_TRUE(looks_like_class_codes(cycling(2000, 100)));
  EXPECT_FALSE(looks_like_class_codes(cycling(2000, 101)));
  // 40000 rows: the ratio would allow 2000, the cap allows 1000.
  EXPECT_TRUE(looks_like_class_codes(cycling(40000, 1000)));
  EXPECT_FALSE(looks_like_class_codes(cycling(40000, 1001)));
  // Two values are binary, never "class codes" of a regression.
  EXPECT_FALSE(looks_like_class_codes(cycling(2000, 2)));
}

TEST(ProblemType, MissingRowsDoNotCountTowardTheRatio) {
  // 50 present values with 5 distinct (ratio 0.1) plus 50 missing.
  Column c = cycling(50, 5);
  c.numeric.resize(100, kNaN);
  EXPECT_TRUE(looks_like_class_codes(c));
}

TEST(ProblemType, FractionalValuesAreRegression) {
  std::vector<float> v(200);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * static_cast<float>(i % 3);
  EXPECT_EQ(detect_task(numeric(v)), Task::kRegression);
  EXPECT_FALSE(looks_like_class_codes(numeric(v)));
}

TEST(ProblemType, EmptyOrConstantTargetIsAnInputError) {
  EXPECT_THROW(detect_task(numeric({kNaN, kNaN})), InputError);
  EXPECT_THROW(detect_task(numeric({})), InputError);
  try {
    detect_task(numeric({kNaN, 4, 4}));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'4'"), std::string::npos) << e.what();
  }
}

TEST(ProblemType, Names) {
  for (Task t : {Task::kRegression, Task::kBinary, Task::kMulticlass}) {
    EXPECT_EQ(task_from_string(to_string(t)), t);
  }
  EXPECT_EQ(to_string(Task::kBinary), "BinaryClassification");
  EXPECT_EQ(task_from_string("regression"), Task::kRegression);
  EXPECT_EQ(task_from_string("binary"), Task::kBinary);
  EXPECT_EQ(task_from_string("multiclass"), Task::kMulticlass);
  EXPECT_THROW(task_from_string("auto"), InputError);
  EXPECT_TRUE(is_classification(Task::kBinary));
  EXPECT_FALSE(is_classification(Task::kRegression));
}

}  // namespace
}  // namespace tabpilot
