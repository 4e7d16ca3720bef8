// Hold-out and k-fold splits: partitions, sizes, stratification, determinism and the
// uniformity of the shuffle underneath.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "tabpilot/common/error.h"
#include "tabpilot/data/split.h"

namespace tabpilot {
namespace {

// train and valid are ascending, disjoint and together hold 0..rows-1.
void expect_partition(const Split& s, size_t rows) {
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  EXPECT_TRUE(std::is_sorted(s.valid.begin(), s.valid.end()));
  std::vector<size_t> all = s.train;
  all.insert(all.end(), s.valid.begin(), s.valid.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), rows);
  for (size_t i = 0; i < rows; ++i) ASSERT_EQ(all[i], i);
}

std::map<int, size_t> class_counts(const std::vector<size_t>& rows,
                                   const std::vector<int>& labels) {
  std::map<int, size_t> out;
  for (size_t r : rows) ++out[labels[r]];
  return out;
}

TEST(Split, HoldoutSizesAndPartition) {
  Split s = holdout_split(1000, 0.2, 7);
  expect_partition(s, 1000);
  EXPECT_EQ(s.valid.size(), 200u);
  // Tiny inputs still leave a row on each side.
  Split t = holdout_split(2, 0.01, 7);
  EXPECT_EQ(t.valid.size(), 1u);
  EXPECT_EQ(t.train.size(), 1u);
}

TEST(Split, HoldoutIsDeterministicPerSeed) {
  Split a = holdout_split(500, 0.3, 123);
  Split b = holdout_split(500, 0.3, 123);
  Split c = holdout_split(500, 0.3, 124);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_NE(a.valid, c.valid);
}

TEST(Split, StratifiedHoldoutIsProportionalPerClass) {
  // Classes of 600, 300, 97, 2 and 1 rows, interleaved.
  std::vector<int> labels;
  for (int c : {0, 1, 2, 3, 4}) {
    const int n = std::vector<int>{600, 300, 97, 2, 1}[c];
    for (int i = 0; i < n; ++i) labels.push_back(c);
  }
  std::vector<int> shuffled(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) shuffled[i] = labels[(i * 7919) % labels.size()];
  Split s = holdout_split(shuffled.size(), 0.25, 99, shuffled);
  expect_partition(s, shuffled.size());
  auto valid = class_counts(s.valid, shuffled);
  auto train = class_counts(s.train, shuffled);
  EXPECT_EQ(valid[0], 150u);
  EXPECT_EQ(valid[1], 75u);
  EXPECT_EQ(valid[2], 24u);  // round(24.25)
  EXPECT_EQ(valid[3], 1u);   // round(0.5) would be 1; a 2-row class must be on both sides
  EXPECT_EQ(train[3], 1u);
  EXPECT_EQ(valid.count(4), 0u);  // a single row can only train
  EXPECT_EQ(train[4], 1u);
}

TEST(Split, StratifiedTwoRowClassWithSmallFraction) {
  std::vector<int> labels(100, 0);
  labels[10] = labels[60] = 1;
  Split s = holdout_split(100, 0.05, 3, labels);
  auto valid = class_counts(s.valid, labels);
  auto train = class_counts(s.train, labels);
  EXPECT_EQ(valid[1], 1u);
  EXPECT_EQ(train[1], 1u);
}

TEST(Split, ShuffleIsUniform) {
  // With one validation row out of 4, each row should be picked about 1/4 of the time.
  const int trials = 8000;
  std::vector<int> hits(4, 0);
  for (int seed = 0; seed < trials; ++seed) ++hits[holdout_split(4, 0.25, seed).valid[0]];
  // Chi-square with 3 degrees of freedom; 16.27 is the 0.1% critical value.
  double chi2 = 0;
  for (int h : hits) chi2 += std::pow(h - trials / 4.0, 2) / (trials / 4.0);
  EXPECT_LT(chi2, 16.27) << hits[0] << " " << hits[1] << " " << hits[2] << " " << hits[3];
}

TEST(Split, KFoldCoversEveryRowOnce) {
  auto folds = kfold_split(103, 5, 11);
  ASSERT_EQ(folds.size(), 5u);
  std::vector<int> seen(103, 0);
  for (const Split& f : folds) {
    expect_partition(f, 103);
    EXPECT_TRUE(f.valid.size() == 20 || f.valid.size() == 21) << f.valid.size();
    for (size_t r : f.valid) ++seen[r];
  }
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  auto again = kfold_split(103, 5, 11);
  for (int f = 0; f < 5; ++f) EXPECT_EQ(again[f].valid, folds[f].valid);
  EXPECT_NE(kfold_split(103, 5, 12)[0].valid, folds[0].valid);
}

TEST(Split, StratifiedKFoldSpreadsEveryClass) {
  std::vector<int> labels;
  for (int i = 0; i < 90; ++i) labels.push_back(i % 9 == 0 ? 2 : (i % 3 == 0 ? 1 : 0));
  auto folds = kfold_split(labels.size(), 4, 5, labels);
  std::map<int, size_t> total;
  for (int l : labels) ++total[l];
  for (const Split& f : folds) {
    expect_partition(f, labels.size());
    auto v = class_counts(f.valid, labels);
    for (auto [label, n] : total) {
      // Each class lands floor(n/4) or ceil(n/4) times in each fold.
      EXPECT_GE(v[label], n / 4) << label;
      EXPECT_LE(v[label], (n + 3) / 4) << label;
    }
  }
}

TEST(Split, BadArgumentsAreInputErrors) {
  EXPECT_THROW(holdout_split(10, 0.0, 1), InputError);
  EXPECT_THROW(holdout_split(10, 1.0, 1), InputError);
  EXPECT_THROW(holdout_split(1, 0.5, 1), InputError);
  EXPECT_THROW(holdout_split(10, 0.5, 1, {0, 1}), InputError);
  EXPECT_THROW(kfold_split(3, 4, 1), InputError);
  EXPECT_THROW(kfold_split(10, 1, 1), InputError);
}

}  // namespace
}  // namespace tabpilot
