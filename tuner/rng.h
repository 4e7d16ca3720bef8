// Deterministic random numbers for the samplers, written out (not <random>'s distributions)
// because the standard leaves those algorithms to the library, and a seed must give the same
// trial on every platform.
#pragma once
#include <cmath>
#include <cstdint>
#include <string_view>

namespace tabpilot::rng {

// splitmix64's finaliser: a well-mixed 64-bit hash, so nearby seeds give unrelated streams.
inline uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Uniform in [0, 1) with 53 random bits, keyed by (seed, name).
inline double unit(uint64_t seed, std::string_view name) {
  return static_cast<double>(mix(mix(seed) ^ fnv1a(name)) >> 11) * 0x1.0p-53;
}

// A sequential stream (splitmix64) for samplers that draw many numbers per proposal.
class Stream {
 public:
  explicit Stream(uint64_t seed) : state_(mix(seed)) {}
  uint64_t next() { return mix(state_ += 0x9E3779B97F4A7C15ull); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  size_t below(size_t n) { return n ? static_cast<size_t>(uniform() * static_cast<double>(n)) : 0; }
  // Standard normal by Box-Muller (one of the pair; simplicity over speed).
  double normal() {
    double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace tabpilot::rng
