// Target encoding: class order, the binary positive-class rule, and the errors.
#include <gtest/gtest.h>

#include <cmath>

#include "support/columns.h"
#include "tabpilot/automl/labels.h"
#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

Column cat(const std::vector<std::string>& values) {
  return testing::categorical_column("y", values);
}

TEST(Labels, TrueLikeLabelIsPositive) {
  auto e = encode_target(cat({"yes", "no", "no", "yes", "yes"}), Task::kBinary);
  EXPECT_EQ(e.labels, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(e.y, (std::vector<float>{1, 0, 0, 1, 1}));
  auto t = encode_target(cat({"tested_negative", "tested_positive", "tested_negative"}), Task::kBinary);
  EXPECT_EQ(t.labels[1], "tested_positive");
}

TEST(Labels, OtherwiseMinorityClassIsPositive) {
  auto e = encode_target(cat({"good", "bad", "good", "good"}), Task::kBinary);
  EXPECT_EQ(e.labels, (std::vector<std::string>{"good", "bad"}));
  // tie: the label that sorts last
  auto t = encode_target(cat({"b", "a", "b", "a"}), Task::kBinary);
  EXPECT_EQ(t.labels[1], "b");
}

TEST(Labels, NumericLabelsSortNumericallyAndMissingRowsAreDropped) {
  Column c;
  c.name = "y";
  c.type = ColumnType::kNumeric;
  c.numeric = {10, 2, NAN, 1, 2};
  auto e = encode_target(c, Task::kMulticlass);
  EXPECT_EQ(e.labels, (std::vector<std::string>{"1", "2", "10"}));
  EXPECT_EQ(e.dropped, 1u);
  EXPECT_EQ(e.kept_rows, (std::vector<size_t>{0, 1, 3, 4}));
  EXPECT_EQ(e.y, (std::vector<float>{2, 1, 0, 1}));
}

TEST(Labels, Errors) {
  EXPECT_THROW(encode_target(cat({"a", "a", "a"}), Task::kMulticlass), InputError);
  EXPECT_THROW(encode_target(cat({"", ""}), Task::kBinary), InputError);
  EXPECT_THROW(encode_target(cat({"a", "b", "c"}), Task::kBinary), InputError);
  EXPECT_THROW(encode_target(cat({"a", "b"}), Task::kRegression), InputError);
}

}  // namespace
}  // namespace tabpilot
