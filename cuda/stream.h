// CUDA streams as values code above cuda/ can hold without CUDA headers: the opaque
// StreamHandle that kernels take, the owning Stream, a guard that makes a device current, and
// an event timer for benchmarks. C++17; without CUDA every constructor throws UnavailableError.
#pragma once
#include "tabpilot/cuda/device.h"

struct CUstream_st;  // the CUDA runtime's own opaque stream type (cudaStream_t is CUstream_st*)
struct CUevent_st;

namespace tabpilot {

// A raw stream, as kernels receive it. nullptr is the legacy default stream of the current
// device.
using StreamHandle = ::CUstream_st*;

// An owned non-blocking stream on one device. The destructor waits for the stream's work, so
// memory cached for it by MemoryPool can never be handed to a later stream too early.
class Stream {
 public:
  explicit Stream(Device device);
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  StreamHandle handle() const { return handle_; }
  Device device() const { return device_; }
  // Blocks until the stream's work is done; throws CudaError if any of it failed.
  void synchronize() const;

 private:
  void destroy() noexcept;
  StreamHandle handle_ = nullptr;
  Device device_;
};

// Blocks until all work queued on `stream` is done (nullptr: the current device's default
// stream); throws CudaError if any of it failed.
void synchronize(StreamHandle stream);

// Makes a device current for the guard's lifetime and restores the previous one after.
class ScopedDevice {
 public:
  explicit ScopedDevice(Device device);
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

 private:
  int previous_ = -1;
};

// GPU-side timing of work queued on one stream: start() and stop() record events on it;
// elapsed_ms() waits for the stop event. What benchmarks use with UseManualTime.
class EventTimer {
 public:
  explicit EventTimer(StreamHandle stream);
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;

  void start();
  void stop();
  float elapsed_ms() const;

 private:
  StreamHandle stream_ = nullptr;
  ::CUevent_st* start_ = nullptr;
  ::CUevent_st* stop_ = nullptr;
};

}  // namespace tabpilot
