// Bandwidth of the GPU transform kernels on a 10M x 100 table: impute_scale one column per call
// (the CPU twin's shape), the tiled all-columns variant (aligned and unaligned output), and
// one-hot, and every tile configuration of the tiled variant (BM_ImputeScaleVariant/<id>, ids
// and configs in kernels/transform_ops_variants.h) so that one GPU run can pick the best.
// Timed with CUDA events
// around the kernels only (UseManualTime); GB/s counts bytes read + written, beside the device's
// theoretical peak and a device-to-device copy of the same bytes as the in-process peer.
// Without a GPU every benchmark reports an error and the binary exits 0.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/cuda/stream.h"
#include "tabpilot/kernels/transform_ops_cuda.h"
#include "tabpilot/kernels/transform_ops_variants.h"

namespace tabpilot {
namespace {

constexpr size_t kRows = 10'000'000;
constexpr int kCols = 100;
constexpr int kOneHotWidth = 16;

// State shared by the benchmarks: one stream and the 10M x 100 input, built on first use.
struct Fixture {
  DeviceInfo info;
  std::unique_ptr<Stream> stream;
  DeviceBuffer<float> columns;  // column-major: column c at c * kRows
  DeviceBuffer<const float*> column_ptrs;
  DeviceBuffer<float> fill, center, inv_scale;
  DeviceBuffer<float> out;      // row-major kRows x kCols
};

Fixture* fixture(benchmark::State& state) {
  // Never destroyed: at exit the CUDA runtime may already be torn down.
  static Fixture* f = nullptr;
  static std::string error;
  if (f) return f;
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return nullptr;
  }
  try {
    if (!cuda_compiled()) throw UnavailableError("built without -DTABPILOT_CUDA=ON");
    const auto devices = cuda_devices();
    if (devices.empty()) throw UnavailableError("no CUDA device visible");
    auto fx = std::make_unique<Fixture>();
    fx->info = devices.front();
    fx->stream = std::make_unique<Stream>(fx->info.device);
    const StreamHandle s = fx->stream->handle();
    const Device d = fx->info.device;
    // One column with 5% NaN, uploaded once and replicated on the device.
    std::vector<float> col(kRows);
    for (size_t r = 0; r < kRows; ++r) col[r] = r % 20 == 7 ? NAN : float(r % 1000) * 0.01f;
    fx->columns = DeviceBuffer<float>(kRows * kCols, d, s);
    fx->columns.upload(col.data(), kRows);
    std::vector<const float*> ptrs(kCols);
    std::vector<float> fill(kCols), center(kCols), inv(kCols);
    for (int c = 0; c < kCols; ++c) {
      float* dst = fx->columns.data() + size_t(c) * kRows;
      if (c > 0) copy_device_async(dst, fx->columns.data(), kRows * sizeof(float), s);
      ptrs[c] = dst;
      fill[c] = 1.0f;
      center[c] = 5.0f;
      inv[c] = 1.0f / (1.0f + c);
    }
    fx->column_ptrs = DeviceBuffer<const float*>::from_host(ptrs, d, s);
    fx->fill = DeviceBuffer<float>::from_host(fill, d, s);
    fx->center = DeviceBuffer<float>::from_host(center, d, s);
    fx->inv_scale = DeviceBuffer<float>::from_host(inv, d, s);
    fx->out = DeviceBuffer<float>(kRows * kCols, d, s);
    fx->stream->synchronize();
    benchmark::AddCustomContext("gpu", fx->info.name);
    benchmark::AddCustomContext("gpu_peak_GBps",
                                std::to_string(fx->info.peak_bandwidth_bytes_per_s() / 1e9));
    f = fx.release();
  } catch (const std::exception& e) {
    error = e.what();
    state.SkipWithError(error.c_str());
    return nullptr;
  }
  return f;
}

// Times `launch` with CUDA events per iteration and reports bytes and percent of peak.
template <typename Launch>
void run_timed(benchmark::State& state, Fixture& f, double bytes_per_iter, Launch launch) {
  EventTimer timer(f.stream->handle());
  launch();  // warm-up: first-touch, clocks, module load
  f.stream->synchronize();
  double seconds = 0.0;
  for (auto _ : state) {
    timer.start();
    launch();
    timer.stop();
    const double s = timer.elapsed_ms() / 1e3;
    seconds += s;
    state.SetIterationTime(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_iter * state.iterations()));
  const double peak = f.info.peak_bandwidth_bytes_per_s();
  const double achieved = bytes_per_iter * state.iterations() / seconds;
  state.counters["peak_GBps"] = peak / 1e9;
  state.counters["achieved_GBps"] = achieved / 1e9;
  state.counters["pct_of_peak"] = peak > 0 ? 100.0 * achieved / peak : 0.0;
}

void BM_ImputeScalePerColumn(benchmark::State& state) {
  Fixture* f = fixture(state);
  if (!f) return;
  run_timed(state, *f, 2.0 * sizeof(float) * kRows * kCols, [f] {
    for (int c = 0; c < kCols; ++c)
      impute_scale_cuda(f->columns.data() + size_t(c) * kRows, kRows, 1.0f, 5.0f,
                        1.0f / (1.0f + c), f->out.data() + c, kCols, nullptr,
                        f->stream->handle());
  });
}

void BM_ImputeScaleAllColumnsTiled(benchmark::State& state) {
  Fixture* f = fixture(state);
  if (!f) return;
  run_timed(state, *f, 2.0 * sizeof(float) * kRows * kCols, [f] {
    impute_scale_columns_cuda(f->column_ptrs.data(), kRows, kCols, f->fill.data(),
                              f->center.data(), f->inv_scale.data(), f->out.data(), kCols,
                              f->stream->handle());
  });
}

// One tile configuration of the tiled kernel, on the same table as BM_ImputeScaleAllColumnsTiled
// (which runs kImputeScaleDefaultVariant).
void BM_ImputeScaleVariant(benchmark::State& state, int variant) {
  Fixture* f = fixture(state);
  if (!f) return;
  state.SetLabel(kImputeScaleTileConfigs[variant].name);
  try {
    run_timed(state, *f, 2.0 * sizeof(float) * kRows * kCols, [f, variant] {
      impute_scale_columns_cuda_variant(variant, f->column_ptrs.data(), kRows, kCols,
                                        f->fill.data(), f->center.data(), f->inv_scale.data(),
                                        f->out.data(), kCols, f->stream->handle());
    });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// The fallback: an output pointer one float past 16-byte alignment forces scalar stores (99
// columns into out + 1, stride 100, so the table stays inside the buffer). The gap to the tiled
// benchmark above is the price callers pay for unaligned output.
void BM_ImputeScaleAllColumnsTiledUnalignedOut(benchmark::State& state) {
  Fixture* f = fixture(state);
  if (!f) return;
  run_timed(state, *f, 2.0 * sizeof(float) * kRows * (kCols - 1), [f] {
    impute_scale_columns_cuda(f->column_ptrs.data(), kRows, kCols - 1, f->fill.data(),
                              f->center.data(), f->inv_scale.data(), f->out.data() + 1, kCols,
                              f->stream->handle());
  });
}

void BM_OneHot(benchmark::State& state) {
  Fixture* f = fixture(state);
  if (!f) return;
  try {
    const StreamHandle s = f->stream->handle();
    std::vector<int32_t> codes(kRows);
    for (size_t r = 0; r < kRows; ++r) codes[r] = r % 37 == 0 ? -1 : int32_t(r * 7 % 20);
    std::vector<int32_t> slots(20);
    for (int i = 0; i < 20; ++i) slots[i] = i < kOneHotWidth - 1 ? i : -1;
    auto d_codes = DeviceBuffer<int32_t>::from_host(codes, f->info.device, s);
    auto d_slots = DeviceBuffer<int32_t>::from_host(slots, f->info.device, s);
    // Read 4 B of code per row, write kOneHotWidth floats per row (the 20-entry map is cached).
    run_timed(state, *f, double(kRows) * (sizeof(int32_t) + sizeof(float) * kOneHotWidth), [&] {
      one_hot_cuda(d_codes.data(), kRows, d_slots.data(), 20, kOneHotWidth - 1, f->out.data(),
                   kOneHotWidth, kOneHotWidth, s);
    });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// The peer: a device-to-device copy of the same 4 GB that impute_scale reads and writes.
void BM_DeviceCopyPeer(benchmark::State& state) {
  Fixture* f = fixture(state);
  if (!f) return;
  run_timed(state, *f, 2.0 * sizeof(float) * kRows * kCols, [f] {
    copy_device_async(f->out.data(), f->columns.data(), sizeof(float) * kRows * kCols,
                      f->stream->handle());
  });
}

BENCHMARK(BM_DeviceCopyPeer)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(BM_ImputeScalePerColumn)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(BM_ImputeScaleAllColumnsTiled)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);
BENCHMARK(BM_ImputeScaleAllColumnsTiledUnalignedOut)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);
BENCHMARK(BM_OneHot)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);

// Registered after the fixed benchmarks above (static initialization runs in file order).
[[maybe_unused]] const bool kVariantsRegistered = [] {
  for (int v = 0; v < kImputeScaleVariantCount; ++v) {
    const std::string name = "BM_ImputeScaleVariant/" + std::to_string(v);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [v](benchmark::State& state) { BM_ImputeScaleVariant(state, v); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(10);
  }
  return true;
}();

}  // namespace
}  // namespace tabpilot

BENCHMARK_MAIN();
