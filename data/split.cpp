#include "tabpilot/data/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

// Uniform in [0, bound) by rejection, because std::uniform_int_distribution differs across
// standard libraries and splits must be identical on every platform for the same seed.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t reject_below = (0 - bound) % bound;  // 2^64 mod bound
  while (true) {
    const uint64_t r = rng();
    if (r >= reject_below) return r % bound;
  }
}

void shuffle(std::vector<size_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Row groups to split independently: one per class (in label order), or one of all rows.
std::vector<std::vector<size_t>> groups(size_t rows, const std::vector<int>& labels) {
  if (labels.empty()) return {iota(rows)};
  if (labels.size() != rows) {
    throw InputError("split: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(rows) + " rows; pass one label per row or none");
  }
  std::map<int, std::vector<size_t>> by_class;
  for (size_t r = 0; r < rows; ++r) by_class[labels[r]].push_back(r);
  std::vector<std::vector<size_t>> out;
  out.reserve(by_class.size());
  for (auto& [label, members] : by_class) out.push_back(std::move(members));
  return out;
}

}  // namespace

Split holdout_split(size_t rows, double valid_fraction, uint64_t seed,
                    const std::vector<int>& labels) {
  if (!(valid_fraction > 0 && valid_fraction < 1)) {
    throw InputError("split: validation fraction " + std::to_string(valid_fraction) +
                     " must lie strictly between 0 and 1");
  }
  if (rows < 2) {
    throw InputError("split: " + std::to_string(rows) +
                     " rows cannot be split into training and validation; provide more rows");
  }
  std::mt19937_64 rng(seed);
  Split split;
  const bool stratified = !labels.empty();
  for (std::vector<size_t>& group : groups(rows, labels)) {
    shuffle(group, rng);
    const size_t n = group.size();
    auto n_valid = static_cast<size_t>(std::llround(valid_fraction * static_cast<double>(n)));
    // Both sides need every class that can be on both sides (and, unstratified, any row).
    if (n >= 2) n_valid = std::clamp<size_t>(n_valid, 1, n - 1);
    if (n < 2 && stratified) n_valid = 0;
    split.valid.insert(split.valid.end(), group.begin(), group.begin() + n_valid);
    split.train.insert(split.train.end(), group.begin() + n_valid, group.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.valid.begin(), split.valid.end());
  return split;
}

std::vector<Split> kfold_split(size_t rows, int k, uint64_t seed, const std::vector<int>& labels) {
  if (k < 2 || static_cast<size_t>(k) > rows) {
    throw InputError("split: " + std::to_string(k) + " folds for " + std::to_string(rows) +
                     " rows; use between 2 and the number of rows");
  }
  std::mt19937_64 rng(seed);
  std::vector<int> fold_of(rows);
  // Deal each class's shuffled rows round-robin, continuing the count across classes, so
  // that every class spreads evenly and fold sizes differ by at most one.
  size_t dealt = 0;
  for (std::vector<size_t>& group : groups(rows, labels)) {
    shuffle(group, rng);
    for (size_t r : group) fold_of[r] = static_cast<int>(dealt++ % k);
  }
  std::vector<Split> folds(k);
  for (size_t r = 0; r < rows; ++r) {
    for (int f = 0; f < k; ++f) {
      (fold_of[r] == f ? folds[f].valid : folds[f].train).push_back(r);
    }
  }
  return folds;
}

}  // namespace tabpilot
