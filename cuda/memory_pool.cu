#include <cstdio>
#include <string>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/memory_pool.h"

namespace tabpilot {

MemoryPool::MemoryPool(Device device) : device_(device) {
  if (!device.is_cuda())
    throw InputError("MemoryPool: device " + device.str() + " is not a CUDA device");
  int count = 0;
  TABPILOT_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (device.ordinal < 0 || device.ordinal >= count)
    throw InputError("MemoryPool: no device " + device.str() + " (" + std::to_string(count) +
                     " visible); check CUDA_VISIBLE_DEVICES");
}

MemoryPool::~MemoryPool() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!live_.empty())
    std::fprintf(stderr, "tabpilot: MemoryPool(%s) destroyed with %zu blocks in use\n",
                 device_.str().c_str(), live_.size());
  int previous = 0;
  TABPILOT_CUDA_WARN(cudaGetDevice(&previous));
  TABPILOT_CUDA_WARN(cudaSetDevice(device_.ordinal));
  TABPILOT_CUDA_WARN(cudaDeviceSynchronize());
  for (auto& [key, blocks] : free_)
    for (void* p : blocks) TABPILOT_CUDA_WARN(cudaFree(p));
  free_.clear();
  TABPILOT_CUDA_WARN(cudaSetDevice(previous));
}

MemoryPool& MemoryPool::for_device(Device device) {
  static std::mutex mutex;
  static auto* pools = new std::unordered_map<int, MemoryPool*>();  // never destroyed, see .h
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pools->find(device.ordinal);
  if (it != pools->end()) return *it->second;
  auto* pool = new MemoryPool(device);
  pools->emplace(device.ordinal, pool);
  return *pool;
}

size_t MemoryPool::size_class(size_t bytes) {
  constexpr size_t kGranule = 512;
  if (bytes <= 4 * kGranule) return (bytes + kGranule - 1) / kGranule * kGranule;
  size_t top = 1;
  while (top * 2 <= bytes) top *= 2;  // highest power of two <= bytes
  const size_t step = top / 4;
  return (bytes + step - 1) / step * step;
}

void* MemoryPool::allocate(size_t bytes, StreamHandle stream) {
  if (bytes == 0) return nullptr;
  const size_t size = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocations;
  void* ptr = nullptr;
  auto it = free_.find(Key{stream, size});
  if (it != free_.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= size;
    ++stats_.cache_hits;
  } else {
    ScopedDevice guard(device_);
    cudaError_t err = cudaMalloc(&ptr, size);
    ++stats_.cuda_malloc_calls;
    if (err == cudaErrorMemoryAllocation && stats_.bytes_cached > 0) {
      cudaGetLastError();
      free_cached_locked();  // memory other size classes hold may be enough
      err = cudaMalloc(&ptr, size);
      ++stats_.cuda_malloc_calls;
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw CudaError("MemoryPool(" + device_.str() + "): out of GPU memory allocating " +
                          std::to_string(size) + " bytes with " +
                          std::to_string(stats_.bytes_in_use) +
                          " in use: reduce the batch size or the number of trials per GPU",
                      true);
    }
    TABPILOT_CUDA_CHECK(err);
  }
  live_.emplace(ptr, Block{size, stream});
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return ptr;
}

void MemoryPool::release(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(ptr);
  if (it == live_.end()) {
    std::fprintf(stderr, "tabpilot: MemoryPool(%s): release of a pointer it did not allocate\n",
                 device_.str().c_str());
    return;
  }
  const Block b = it->second;
  live_.erase(it);
  stats_.bytes_in_use -= b.size;
  stats_.bytes_cached += b.size;
  free_[Key{b.stream, b.size}].push_back(ptr);
}

void MemoryPool::release_cached() {
  std::lock_guard<std::mutex> lock(mutex_);
  ScopedDevice guard(device_);
  free_cached_locked();
}

void MemoryPool::free_cached_locked() {
  // Released blocks may still be read by queued kernels on their streams.
  TABPILOT_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto& [key, blocks] : free_) {
    for (void* p : blocks) {
      TABPILOT_CUDA_CHECK(cudaFree(p));
      ++stats_.cuda_free_calls;
    }
  }
  free_.clear();
  stats_.bytes_cached = 0;
}

PoolStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void copy_to_device(void* dst, const void* src, size_t bytes, StreamHandle stream) {
  if (bytes == 0) return;
  TABPILOT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
  TABPILOT_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle stream) {
  if (bytes == 0) return;
  TABPILOT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
  TABPILOT_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void fill_zero_async(void* dst, size_t bytes, StreamHandle stream) {
  if (bytes == 0) return;
  TABPILOT_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream));
}

void copy_device_async(void* dst, const void* src, size_t bytes, StreamHandle stream) {
  if (bytes == 0) return;
  TABPILOT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
}

}  // namespace tabpilot
