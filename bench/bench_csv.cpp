// read_csv throughput on a ~100 MB mixed file (mostly numeric, some categorical, ~2%
// missing). The file is generated once into $TMPDIR (else /tmp) with a fixed seed; bench/pandas_read_csv.py
// generates the same bytes, so its MB/s is the peer figure for the same input.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tabpilot/data/csv.h"

namespace {

// The scratch file: $TMPDIR/tabpilot_bench_csv.csv (std::filesystem reads TMPDIR).
const std::string kPath =
    (std::filesystem::temp_directory_path() / "tabpilot_bench_csv.csv").string();
constexpr int kFloatColumns = 16, kIntColumns = 4, kCatColumns = 3;
constexpr size_t kTargetBytes = 100u << 20;
constexpr const char* kWords[] = {"red",     "green",  "blue",  "cyan",
                                  "magenta", "yellow", "black", "white"};

// splitmix64: trivial to reproduce in Python, so both benches read identical bytes.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

const std::string& bench_file() {
  static const std::string path = [] {
    if (std::filesystem::exists(kPath) && std::filesystem::file_size(kPath) > kTargetBytes / 2) {
      return kPath;
    }
    std::string text;
    text.reserve(kTargetBytes + (1 << 16));
    for (int c = 0; c < kFloatColumns; ++c) text += (c ? ",f" : "f") + std::to_string(c);
    for (int c = 0; c < kIntColumns; ++c) text += ",i" + std::to_string(c);
    for (int c = 0; c < kCatColumns; ++c) text += ",c" + std::to_string(c);
    text += "\n";
    SplitMix rng{42};
    char buf[64];
    while (text.size() < kTargetBytes) {
      for (int c = 0; c < kFloatColumns + kIntColumns + kCatColumns; ++c) {
        if (c) text += ',';
        const uint64_t r = rng.next();
        if (r % 50 == 0) continue;  // 2% missing
        if (c < kFloatColumns) {
          const double u = static_cast<double>(r >> 11) / 9007199254740992.0;  // [0, 1)
          std::snprintf(buf, sizeof buf, "%.4f", (u * 2 - 1) * 1000);
          text += buf;
        } else if (c < kFloatColumns + kIntColumns) {
          text += std::to_string((r >> 8) % 100000);
        } else {
          text += kWords[(r >> 8) % 8];
        }
      }
      text += '\n';
    }
    std::FILE* f = std::fopen(kPath.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return kPath;
  }();
  return path;
}

void BM_ReadCsv(benchmark::State& state) {
  const std::string& path = bench_file();
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  for (auto _ : state) {
    tabpilot::Table t = tabpilot::read_csv(path);
    benchmark::DoNotOptimize(t.num_rows);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_ReadCsv)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
