// Streams in a build without the CUDA backend: the API exists and says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/stream.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* what) { throw_cuda_unavailable(what); }
}  // namespace

Stream::Stream(Device device) : device_(device) { unavailable("Stream"); }
Stream::~Stream() = default;
Stream::Stream(Stream&& other) noexcept : handle_(other.handle_), device_(other.device_) {}
Stream& Stream::operator=(Stream&& other) noexcept {
  handle_ = other.handle_;
  device_ = other.device_;
  return *this;
}
void Stream::destroy() noexcept {}
void Stream::synchronize() const { unavailable("Stream::synchronize"); }
void synchronize(StreamHandle) { unavailable("synchronize"); }

ScopedDevice::ScopedDevice(Device) { unavailable("ScopedDevice"); }
ScopedDevice::~ScopedDevice() = default;

EventTimer::EventTimer(StreamHandle stream) : stream_(stream) { unavailable("EventTimer"); }
EventTimer::~EventTimer() = default;
void EventTimer::start() { unavailable("EventTimer"); }
void EventTimer::stop() { unavailable("EventTimer"); }
float EventTimer::elapsed_ms() const { unavailable("EventTimer"); }

}  // namespace tabpilot
