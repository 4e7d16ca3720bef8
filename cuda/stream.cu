#include <utility>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/stream.h"

namespace tabpilot {

Stream::Stream(Device device) : device_(device) {
  if (!device.is_cuda())
    throw InputError("Stream: device " + device.str() + " is not a CUDA device");
  ScopedDevice guard(device);
  TABPILOT_CUDA_CHECK(cudaStreamCreateWithFlags(&handle_, cudaStreamNonBlocking));
}

Stream::~Stream() { destroy(); }

Stream::Stream(Stream&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), device_(other.device_) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    destroy();
    handle_ = std::exchange(other.handle_, nullptr);
    device_ = other.device_;
  }
  return *this;
}

void Stream::destroy() noexcept {
  if (!handle_) return;
  int previous = 0;
  TABPILOT_CUDA_WARN(cudaGetDevice(&previous));
  TABPILOT_CUDA_WARN(cudaSetDevice(device_.ordinal));
  TABPILOT_CUDA_WARN(cudaStreamSynchronize(handle_));
  // A later stream may get the same address; handles bound to this one must not outlive it.
  cuda_detail::drop_blas_handles(handle_);
  TABPILOT_CUDA_WARN(cudaStreamDestroy(handle_));
  TABPILOT_CUDA_WARN(cudaSetDevice(previous));
  handle_ = nullptr;
}

void Stream::synchronize() const { TABPILOT_CUDA_CHECK(cudaStreamSynchronize(handle_)); }

void synchronize(StreamHandle stream) { TABPILOT_CUDA_CHECK(cudaStreamSynchronize(stream)); }

ScopedDevice::ScopedDevice(Device device) {
  if (!device.is_cuda())
    throw InputError("ScopedDevice: device " + device.str() + " is not a CUDA device");
  TABPILOT_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device.ordinal) TABPILOT_CUDA_CHECK(cudaSetDevice(device.ordinal));
}

ScopedDevice::~ScopedDevice() {
  int current = -1;
  TABPILOT_CUDA_WARN(cudaGetDevice(&current));
  if (current != previous_) TABPILOT_CUDA_WARN(cudaSetDevice(previous_));
}

EventTimer::EventTimer(StreamHandle stream) : stream_(stream) {
  TABPILOT_CUDA_CHECK(cudaEventCreate(&start_));
  const cudaError_t err = cudaEventCreate(&stop_);
  if (err != cudaSuccess) {
    TABPILOT_CUDA_WARN(cudaEventDestroy(start_));
    TABPILOT_CUDA_CHECK(err);
  }
}

EventTimer::~EventTimer() {
  TABPILOT_CUDA_WARN(cudaEventDestroy(start_));
  TABPILOT_CUDA_WARN(cudaEventDestroy(stop_));
}

void EventTimer::start() { TABPILOT_CUDA_CHECK(cudaEventRecord(start_, stream_)); }
void EventTimer::stop() { TABPILOT_CUDA_CHECK(cudaEventRecord(stop_, stream_)); }

float EventTimer::elapsed_ms() const {
  TABPILOT_CUDA_CHECK(cudaEventSynchronize(stop_));
  float ms = 0.0f;
  TABPILOT_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return ms;
}

}  // namespace tabpilot
