// Seeded train/validation splits: hold-out (stratified for classification) and k-fold.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tabpilot {

struct Split {
  std::vector<size_t> train;  // row indices, ascending
  std::vector<size_t> valid;  // row indices, ascending
};

// `labels`: class index per row for stratification, or empty for a plain random split.
// Every class with at least 2 rows gets at least one row on each side.
Split holdout_split(size_t rows, double valid_fraction, uint64_t seed,
                    const std::vector<int>& labels = {});

// k folds; fold i validates on its part and trains on the rest. Stratified when labels given.
std::vector<Split> kfold_split(size_t rows, int k, uint64_t seed,
                               const std::vector<int>& labels = {});

}  // namespace tabpilot
