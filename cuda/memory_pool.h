// Per-device caching allocator and the DeviceBuffer<T> handle on it. Blocks are rounded to size
// classes and kept after release, so once a training step has warmed the pool it never calls
// cudaMalloc (which synchronizes the whole device). C++17, no CUDA headers.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tabpilot/cuda/stream.h"

namespace tabpilot {

struct PoolStats {
  size_t bytes_in_use = 0;       // size-class bytes handed out and not yet released
  size_t peak_bytes_in_use = 0;
  size_t bytes_cached = 0;       // released blocks kept for reuse
  size_t cuda_malloc_calls = 0;
  size_t cuda_free_calls = 0;
  size_t allocations = 0;        // allocate() calls
  size_t cache_hits = 0;         // allocate() calls served without cudaMalloc
};

// Thread-safe. A released block is reused only for the stream it was allocated on: work on that
// stream is ordered after the previous user's, so reuse needs no synchronization. Blocks of
// other streams are not borrowed (that would need an event per block).
class MemoryPool {
 public:
  explicit MemoryPool(Device device);
  ~MemoryPool();  // frees cached blocks; blocks still in use are leaked, with a warning
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // The process-wide pool of a CUDA device, created on first use and never destroyed (the CUDA
  // runtime may already be gone when static destructors run).
  static MemoryPool& for_device(Device device);

  // The size class a request of `bytes` is rounded to: multiples of 512 B, then four classes
  // per power of two (at most 25% slack).
  static size_t size_class(size_t bytes);

  // Device memory of at least `bytes` (nullptr for 0), for use on `stream`. On out-of-memory,
  // frees the cache and retries once, then throws CudaError with out_of_memory() set.
  void* allocate(size_t bytes, StreamHandle stream = nullptr);
  // Returns a block from allocate() to the cache. nullptr is ignored.
  void release(void* ptr);
  // Waits for the device, then cudaFrees every cached block.
  void release_cached();

  PoolStats stats() const;
  Device device() const { return device_; }

 private:
  struct Block {
    size_t size;
    StreamHandle stream;
  };
  struct Key {
    StreamHandle stream;
    size_t size;
    bool operator==(const Key& o) const { return stream == o.stream && size == o.size; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.stream) ^ (std::hash<size_t>()(k.size) * 31);
    }
  };
  void free_cached_locked();

  Device device_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::unordered_map<Key, std::vector<void*>, KeyHash> free_;
  PoolStats stats_;
};

// Copies and fills on device memory, synchronous with respect to the host (the host side may
// be pageable memory that the caller frees right after).
void copy_to_device(void* dst, const void* src, size_t bytes, StreamHandle stream = nullptr);
void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle stream = nullptr);
// Queued on `stream`; does not wait.
void fill_zero_async(void* dst, size_t bytes, StreamHandle stream = nullptr);
void copy_device_async(void* dst, const void* src, size_t bytes, StreamHandle stream = nullptr);

// An array of T in pool memory, returned to its pool when destroyed. Move-only.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t count, MemoryPool& pool, StreamHandle stream = nullptr)
      : pool_(&pool), stream_(stream), count_(count) {
    data_ = static_cast<T*>(pool.allocate(count * sizeof(T), stream));
  }
  DeviceBuffer(size_t count, Device device, StreamHandle stream = nullptr)
      : DeviceBuffer(count, MemoryPool::for_device(device), stream) {}
  // A device copy of host data.
  static DeviceBuffer from_host(const std::vector<T>& host, Device device,
                                StreamHandle stream = nullptr) {
    DeviceBuffer b(host.size(), device, stream);
    b.upload(host.data(), host.size());
    return b;
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    DeviceBuffer(std::move(o)).swap(*this);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  StreamHandle stream() const { return stream_; }

  void upload(const T* src, size_t count) {
    copy_to_device(data_, src, count * sizeof(T), stream_);
  }
  void download(T* dst, size_t count) const {
    copy_to_host(dst, data_, count * sizeof(T), stream_);
  }
  std::vector<T> to_host() const {
    std::vector<T> out(count_);
    download(out.data(), count_);
    return out;
  }
  void fill_zero() { fill_zero_async(data_, bytes(), stream_); }

  void reset() {
    if (pool_ && data_) pool_->release(data_);
    data_ = nullptr;
    count_ = 0;
  }
  void swap(DeviceBuffer& o) noexcept {
    std::swap(pool_, o.pool_);
    std::swap(stream_, o.stream_);
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
  }

 private:
  MemoryPool* pool_ = nullptr;
  StreamHandle stream_ = nullptr;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace tabpilot
