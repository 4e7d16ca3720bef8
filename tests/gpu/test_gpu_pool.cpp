// The device layer: memory pool reuse and stats, DeviceBuffer, streams, cuBLAS handles, and the
// errors a CPU-only build gives.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "gpu/gpu_test_util.h"
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/kernels/mlp_ops_cuda.h"
#include "tabpilot/kernels/transform_ops_cuda.h"

namespace tabpilot {
namespace {

using testing::gpu0;

TEST(GpuPool, SizeClassesRoundUpWithBoundedSlack) {
  // Pure arithmetic: runs on every build.
  EXPECT_EQ(MemoryPool::size_class(1), 512u);
  EXPECT_EQ(MemoryPool::size_class(512), 512u);
  EXPECT_EQ(MemoryPool::size_class(513), 1024u);
  EXPECT_EQ(MemoryPool::size_class(4096), 4096u);
  EXPECT_EQ(MemoryPool::size_class(4097), 5120u);  // 4096 + 4096/4
  EXPECT_EQ(MemoryPool::size_class(size_t{1} << 20), size_t{1} << 20);
  for (size_t b = 1; b < (size_t{1} << 24); b = b * 3 / 2 + 7) {
    const size_t c = MemoryPool::size_class(b);
    EXPECT_GE(c, b);
    EXPECT_LE(c - b, std::max<size_t>(511, b / 4)) << b;  // 512-byte granules, then 25%
    EXPECT_EQ(MemoryPool::size_class(c), c) << "a class is its own class";
  }
}

TEST(GpuPool, SecondAllocationOfSameClassDoesNoCudaMalloc) {
  TABPILOT_REQUIRE_GPU();
  MemoryPool pool(gpu0());
  Stream s(gpu0());
  void* a = pool.allocate(1000, s.handle());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(pool.stats().cuda_malloc_calls, 1u);
  pool.release(a);
  void* b = pool.allocate(1000, s.handle());
  EXPECT_EQ(b, a);
  void* c = pool.allocate(600, s.handle());  // same 1024-byte class, but `a` is taken
  EXPECT_NE(c, a);
  pool.release(c);
  pool.release(b);
  void* d = pool.allocate(900, s.handle());  // class 1024: served from the cache
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.cuda_malloc_calls, 2u);
  EXPECT_EQ(st.allocations, 4u);
  EXPECT_EQ(st.cache_hits, 2u);
  EXPECT_EQ(st.bytes_in_use, 1024u);
  EXPECT_EQ(st.peak_bytes_in_use, 2048u);
  EXPECT_EQ(st.bytes_cached, 1024u);
  pool.release(d);
  pool.release_cached();
  EXPECT_EQ(pool.stats().cuda_free_calls, 2u);
  EXPECT_EQ(pool.stats().bytes_cached, 0u);
}

TEST(GpuPool, WarmLoopOfBuffersDoesNoCudaMalloc) {
  TABPILOT_REQUIRE_GPU();
  MemoryPool pool(gpu0());
  Stream s(gpu0());
  auto step = [&] {  // a "training step": several buffers of fixed sizes, freed at the end
    DeviceBuffer<float> x(4096, pool, s.handle()), y(777, pool, s.handle());
    DeviceBuffer<double> z(3, pool, s.handle());
    x.fill_zero();
  };
  step();
  const size_t warm = pool.stats().cuda_malloc_calls;
  EXPECT_EQ(warm, 3u);
  for (int i = 0; i < 20; ++i) step();
  EXPECT_EQ(pool.stats().cuda_malloc_calls, warm);
  EXPECT_EQ(pool.stats().bytes_in_use, 0u);
}

TEST(GpuPool, BlocksAreNotBorrowedAcrossStreams) {
  TABPILOT_REQUIRE_GPU();
  MemoryPool pool(gpu0());
  Stream s1(gpu0()), s2(gpu0());
  void* a = pool.allocate(1 << 16, s1.handle());
  pool.release(a);
  void* b = pool.allocate(1 << 16, s2.handle());
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.stats().cuda_malloc_calls, 2u);
  pool.release(b);
}

TEST(GpuPool, ThreadSafeUnderConcurrentUse) {
  TABPILOT_REQUIRE_GPU();
  MemoryPool pool(gpu0());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 500; ++i) {
        void* p = pool.allocate(256 * (1 + (i + t) % 8));
        pool.release(p);
      }
    });
  for (auto& th : threads) th.join();
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.allocations, 2000u);
  EXPECT_EQ(st.bytes_in_use, 0u);
  // At most one block per (class, thread) alive at once: 4 classes x 4 threads.
  EXPECT_LE(st.cuda_malloc_calls, 16u);
  EXPECT_EQ(st.cache_hits + st.cuda_malloc_calls, st.allocations);
}

TEST(GpuPool, OutOfMemoryThrowsCudaErrorWithRemedy) {
  TABPILOT_REQUIRE_GPU();
  MemoryPool pool(gpu0());
  try {
    pool.allocate(size_t{1} << 50);  // 1 PiB
    FAIL() << "expected CudaError";
  } catch (const CudaError& e) {
    EXPECT_TRUE(e.out_of_memory());
    EXPECT_NE(std::string(e.what()).find("reduce the batch size"), std::string::npos) << e.what();
  }
  // The pool stays usable afterwards.
  void* p = pool.allocate(1024);
  EXPECT_NE(p, nullptr);
  pool.release(p);
}

TEST(GpuPool, DeviceBufferRoundTripsAndReturnsItsBlock) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  MemoryPool& pool = MemoryPool::for_device(gpu0());
  EXPECT_EQ(&pool, &MemoryPool::for_device(gpu0()));
  const size_t before = pool.stats().bytes_in_use;
  std::vector<int32_t> host(12345);
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<int32_t>(i * 7 - 3000);
  {
    auto buf = DeviceBuffer<int32_t>::from_host(host, gpu0(), s.handle());
    EXPECT_EQ(buf.size(), host.size());
    EXPECT_GT(pool.stats().bytes_in_use, before);
    DeviceBuffer<int32_t> moved = std::move(buf);
    EXPECT_EQ(buf.data(), nullptr);
    EXPECT_EQ(moved.to_host(), host);
  }
  EXPECT_EQ(pool.stats().bytes_in_use, before);
}

TEST(GpuStream, EventTimerMeasuresQueuedWork) {
  TABPILOT_REQUIRE_GPU();
  Stream s(gpu0());
  DeviceBuffer<float> buf(size_t{1} << 24, gpu0(), s.handle());
  EventTimer timer(s.handle());
  timer.start();
  for (int i = 0; i < 10; ++i) buf.fill_zero();
  timer.stop();
  const float ms = timer.elapsed_ms();
  EXPECT_GT(ms, 0.0f);
  EXPECT_LT(ms, 10000.0f);
  s.synchronize();
}

TEST(GpuBlas, OneHandlePerDeviceAndStream) {
  TABPILOT_REQUIRE_GPU();
  Stream s1(gpu0()), s2(gpu0());
  BlasHandle& a = BlasHandle::get(gpu0(), s1.handle());
  BlasHandle& b = BlasHandle::get(gpu0(), s2.handle());
  EXPECT_EQ(&a, &BlasHandle::get(gpu0(), s1.handle()));
  EXPECT_NE(&a, &b);
  EXPECT_NE(a.raw(), b.raw());
  EXPECT_EQ(a.stream(), s1.handle());
  EXPECT_EQ(a.math(), BlasMath::kFp32);
  a.set_math(BlasMath::kTf32);
  EXPECT_EQ(a.math(), BlasMath::kTf32);
  EXPECT_EQ(b.math(), BlasMath::kFp32);
}

TEST(GpuDevice, ReportsPeakBandwidth) {
  TABPILOT_REQUIRE_GPU();
  const DeviceInfo d = cuda_devices().front();
  EXPECT_GT(d.multiprocessors, 0);
  EXPECT_GT(d.memory_bus_width_bits, 0);
  EXPECT_GT(d.memory_clock_khz, 0);
  // Any GPU we target moves between 100 GB/s and 20 TB/s.
  EXPECT_GT(d.peak_bandwidth_bytes_per_s(), 1e11);
  EXPECT_LT(d.peak_bandwidth_bytes_per_s(), 2e13);
}

TEST(GpuUnavailable, CpuOnlyBuildSaysHowToGetCuda) {
  if (cuda_compiled()) GTEST_SKIP() << "CUDA is compiled in";
  auto expect_hint = [](auto&& call) {
    try {
      call();
      ADD_FAILURE() << "expected UnavailableError";
    } catch (const UnavailableError& e) {
      EXPECT_NE(std::string(e.what()).find("-DTABPILOT_CUDA=ON"), std::string::npos) << e.what();
    }
  };
  expect_hint([] { MemoryPool::for_device(Device::cuda(0)); });
  expect_hint([] { Stream s(Device::cuda(0)); });
  expect_hint([] { BlasHandle::get(Device::cuda(0), nullptr); });
  expect_hint([] { impute_scale_cuda(nullptr, 1, 0, 0, 1, nullptr, 1, nullptr, nullptr); });
  expect_hint([] { dense_forward_cuda(nullptr, nullptr, nullptr, nullptr, 1, 1, 1, nullptr); });
  expect_hint([] { mse_cuda(nullptr, nullptr, nullptr, nullptr, 1, 1.0f, nullptr); });
}

}  // namespace
}  // namespace tabpilot
