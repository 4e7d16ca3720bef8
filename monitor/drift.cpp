#include "tabpilot/monitor/drift.h"

#include <algorithm>
#include <cmath>

namespace tabpilot::monitor {

double linf_numeric(const KllSketch& a, const KllSketch& b) {
  if (a.count() == 0 || b.count() == 0) return 0;
  const auto ia = a.weighted_items(), ib = b.weighted_items();
  const double na = static_cast<double>(a.count()), nb = static_cast<double>(b.count());
  // Sweep the merged keys; at each distinct key both CDFs include every item <= key.
  size_t i = 0, j = 0;
  uint64_t wa = 0, wb = 0;
  double worst = 0;
  while (i < ia.size() || j < ib.size()) {
    const double key = j == ib.size() || (i < ia.size() && ia[i].first <= ib[j].first)
                           ? ia[i].first
                           : ib[j].first;
    while (i < ia.size() && ia[i].first <= key) wa += ia[i++].second;
    while (j < ib.size() && ib[j].first <= key) wb += ib[j++].second;
    worst = std::max(worst, std::fabs(static_cast<double>(wa) / na - static_cast<double>(wb) / nb));
  }
  return worst;
}

double linf_categorical(const std::map<std::string, size_t>& a, uint64_t n_a,
                        const std::map<std::string, size_t>& b, uint64_t n_b) {
  if (n_a == 0 || n_b == 0) return 0;
  const double na = static_cast<double>(n_a), nb = static_cast<double>(n_b);
  double worst = 0;
  for (const auto& [value, count] : a) {
    auto it = b.find(value);
    const double pb = it == b.end() ? 0.0 : static_cast<double>(it->second) / nb;
    worst = std::max(worst, std::fabs(static_cast<double>(count) / na - pb));
  }
  for (const auto& [value, count] : b)
    if (!a.count(value)) worst = std::max(worst, static_cast<double>(count) / nb);
  return worst;
}

double linf_robust(double linf, uint64_t n, uint64_t m) {
  if (n == 0 || m == 0) return linf;
  const double dn = static_cast<double>(n), dm = static_cast<double>(m);
  return std::max(0.0, linf - 1.8 * std::sqrt((dn + dm) / (dn * dm)));
}

}  // namespace tabpilot::monitor
