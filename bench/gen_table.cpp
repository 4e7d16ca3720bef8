// Writes the scale table of bench/scale_fit.py without Python or numpy (the GPU machine has
// neither numpy nor the time to spare): rows x 50 columns — 40 numeric (every fifth with 5%
// missing), 9 categorical (3 to 200 levels, one with 10% missing) and a target y mixing
// linear, sinusoidal, interaction and categorical effects with noise. Deterministic for a
// seed; not byte-identical to the Python generator (another random stream), the same shape.
//
//   gen_table OUT.csv [ROWS=1000000] [SEED=7]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double normal() {  // Box-Muller, one of the pair
    const double u = uniform() + 1e-300, v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gen_table OUT.csv [ROWS] [SEED]\n");
    return 2;
  }
  const long rows = argc > 2 ? std::atol(argv[2]) : 1000000;
  SplitMix rng{argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 7};
  std::FILE* f = std::fopen(argv[1], "w");
  if (!f) {
    std::perror(argv[1]);
    return 1;
  }
  constexpr int kNum = 40, kCat = 9;
  const int levels[kCat] = {3, 5, 10, 20, 50, 100, 200, 8, 4};
  for (int j = 0; j < kNum; ++j) std::fprintf(f, "x%d,", j);
  for (int j = 0; j < kCat; ++j) std::fprintf(f, "c%d,", j);
  std::fprintf(f, "y\n");
  std::vector<double> x(kNum);
  std::vector<long> c(kCat);
  std::string line;
  char buf[64];
  for (long r = 0; r < rows; ++r) {
    line.clear();
    for (int j = 0; j < kNum; ++j) {
      x[j] = rng.normal() * (j + 1);
      if (j % 5 == 0 && rng.uniform() < 0.05) {
        line += ',';
        continue;
      }
      std::snprintf(buf, sizeof buf, "%.5g,", x[j]);
      line += buf;
    }
    for (int j = 0; j < kCat; ++j) {
      c[j] = static_cast<long>(rng.next() % static_cast<uint64_t>(levels[j]));
      if (j == 1 && rng.uniform() < 0.1) {
        line += ',';
        continue;
      }
      std::snprintf(buf, sizeof buf, "cat%ld,", c[j]);
      line += buf;
    }
    const double y = x[0] * 0.5 + std::sin(x[1]) * 3 + x[2] * x[3] / 10 + c[0] * 2.0 +
                     static_cast<double>(c[2] % 3) + rng.normal();
    std::snprintf(buf, sizeof buf, "%.6g\n", y);
    line += buf;
    std::fwrite(line.data(), 1, line.size(), f);
  }
  return std::fclose(f) == 0 ? 0 : 1;
}
