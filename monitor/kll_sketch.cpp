#include "tabpilot/monitor/kll_sketch.h"

#include <algorithm>
#include <cmath>

#include "tabpilot/common/error.h"

namespace tabpilot::monitor {

KllSketch::KllSketch(int k, double c) : k_(k), c_(c), levels_(1), offsets_(1, 0) {
  if (k < 2 || !(c > 0 && c <= 1))
    throw InputError("KLL sketch: k must be >= 2 and c in (0, 1], got k=" + std::to_string(k) +
                     ", c=" + std::to_string(c));
}

// The top level holds k items; each level below holds c times the one above (at least 2).
size_t KllSketch::capacity(size_t level) const {
  const size_t depth = levels_.size() - 1 - level;
  const double cap = std::ceil(k_ * std::pow(c_, static_cast<double>(depth)));
  return std::max<size_t>(2, static_cast<size_t>(cap));
}

void KllSketch::update(double value) {
  if (std::isnan(value)) return;
  levels_[0].push_back(value);
  ++count_;
  size_t size = 0, total = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    size += levels_[h].size();
    total += capacity(h);
  }
  if (size >= total) compress();
}

// Compacts the lowest full level: sort it, promote every other item (weight doubles) and
// keep one behind when the count is odd, so the total weight stays exact.
void KllSketch::compress() {
  for (size_t h = 0; h < levels_.size(); ++h) {
    if (levels_[h].size() < capacity(h)) continue;
    if (h + 1 == levels_.size()) {
      levels_.emplace_back();
      offsets_.push_back(0);
    }
    std::vector<double>& items = levels_[h];
    std::sort(items.begin(), items.end());
    double leftover = 0;
    const bool odd = items.size() % 2 == 1;
    if (odd) {
      leftover = items.back();
      items.pop_back();
    }
    const size_t offset = offsets_[h];
    offsets_[h] ^= 1;
    for (size_t i = offset; i < items.size(); i += 2) levels_[h + 1].push_back(items[i]);
    items.clear();
    if (odd) items.push_back(leftover);
    return;
  }
}

double KllSketch::cdf(double x) const {
  if (count_ == 0) return 0;
  uint64_t below = 0;
  for (size_t h = 0; h < levels_.size(); ++h)
    for (double v : levels_[h])
      if (v <= x) below += uint64_t{1} << h;
  return static_cast<double>(below) / static_cast<double>(count_);
}

std::vector<std::pair<double, uint64_t>> KllSketch::weighted_items() const {
  std::vector<std::pair<double, uint64_t>> out;
  for (size_t h = 0; h < levels_.size(); ++h)
    for (double v : levels_[h]) out.emplace_back(v, uint64_t{1} << h);
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json KllSketch::to_json() const {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& level : levels_) data.push_back(level);
  return {{"parameters", {{"c", c_}, {"k", k_}}}, {"data", data}};
}

KllSketch KllSketch::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    const auto& p = j.at("parameters");
    KllSketch s(static_cast<int>(p.at("k").get<double>()), p.at("c").get<double>());
    const auto& data = j.at("data");
    if (!data.is_array() || data.empty()) throw InputError(where + ": sketch has no data");
    s.levels_.clear();
    s.offsets_.clear();
    for (size_t h = 0; h < data.size(); ++h) {
      s.levels_.push_back(data[h].get<std::vector<double>>());
      s.offsets_.push_back(0);
      s.count_ += s.levels_.back().size() * (uint64_t{1} << h);
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": not a KLL sketch (" + e.what() + ")");
  }
}

}  // namespace tabpilot::monitor
