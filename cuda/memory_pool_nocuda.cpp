// The memory pool in a build without the CUDA backend: the API exists and says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/memory_pool.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* what) { throw_cuda_unavailable(what); }
}  // namespace

MemoryPool::MemoryPool(Device device) : device_(device) { unavailable("MemoryPool"); }
MemoryPool::~MemoryPool() = default;
MemoryPool& MemoryPool::for_device(Device) { unavailable("MemoryPool"); }

size_t MemoryPool::size_class(size_t bytes) {
  constexpr size_t kGranule = 512;  // same classes as memory_pool.cu, for planning on any build
  if (bytes <= 4 * kGranule) return (bytes + kGranule - 1) / kGranule * kGranule;
  size_t top = 1;
  while (top * 2 <= bytes) top *= 2;
  const size_t step = top / 4;
  return (bytes + step - 1) / step * step;
}

void* MemoryPool::allocate(size_t, StreamHandle) { unavailable("MemoryPool::allocate"); }
void MemoryPool::release(void*) {}
void MemoryPool::release_cached() {}
void MemoryPool::free_cached_locked() {}
PoolStats MemoryPool::stats() const { return stats_; }

void copy_to_device(void*, const void*, size_t, StreamHandle) { unavailable("copy_to_device"); }
void copy_to_host(void*, const void*, size_t, StreamHandle) { unavailable("copy_to_host"); }
void fill_zero_async(void*, size_t, StreamHandle) { unavailable("fill_zero_async"); }
void copy_device_async(void*, const void*, size_t, StreamHandle) {
  unavailable("copy_device_async");
}

}  // namespace tabpilot
