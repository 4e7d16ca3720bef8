// A KLL quantile sketch (Karnin, Lang, Liberty 2016), the sketch Deequ and Model Monitor keep
// per numeric column: a stack of compactors, level h holding items of weight 2^h. Below k
// items nothing is compacted and the sketch is exact. Compaction is deterministic (the kept
// half alternates per level) so the same data always gives the same statistics.json.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace tabpilot::monitor {

// Deequ's KLLParameters defaults: sketch size 2048, shrinking factor 0.64.
inline constexpr int kKllSketchSize = 2048;
inline constexpr double kKllShrinkingFactor = 0.64;

class KllSketch {
 public:
  explicit KllSketch(int k = kKllSketchSize, double c = kKllShrinkingFactor);

  void update(double value);  // NaN is ignored (it is a missing value, not a sample)
  // Total weight: the number of values added (compaction preserves it exactly).
  uint64_t count() const { return count_; }
  // Fraction of the weight at or below `x` (the sketch's CDF), 0 for an empty sketch.
  double cdf(double x) const;
  // Every item with its weight, sorted by value.
  std::vector<std::pair<double, uint64_t>> weighted_items() const;

  int k() const { return k_; }
  double c() const { return c_; }
  // {"parameters":{"c":c,"k":k},"data":[[level 0 items],[level 1 items],...]}
  nlohmann::json to_json() const;
  // Throws InputError naming `where` when the JSON is not a sketch.
  static KllSketch from_json(const nlohmann::json& j, const std::string& where);

 private:
  size_t capacity(size_t level) const;
  void compress();

  int k_;
  double c_;
  uint64_t count_ = 0;
  std::vector<std::vector<double>> levels_;  // levels_[h]: items of weight 2^h
  std::vector<uint8_t> offsets_;             // per level: which half the next compaction keeps
};

}  // namespace tabpilot::monitor
