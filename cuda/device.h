// The Device value that travels with buffers and matrices, and device discovery. Code above
// kernels/ asks the device instead of branching on #ifdef. This header includes no CUDA
// and keeps to C++17, since .cu files include it.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace tabpilot {

enum class DeviceKind { kCpu, kCuda };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int ordinal = 0;

  static Device cpu() { return {}; }
  static Device cuda(int ordinal) { return {DeviceKind::kCuda, ordinal}; }
  bool is_cpu() const { return kind == DeviceKind::kCpu; }
  bool is_cuda() const { return kind == DeviceKind::kCuda; }
  std::string str() const;  // "cpu", "cuda:0"
  bool operator==(const Device& o) const { return kind == o.kind && ordinal == o.ordinal; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

struct DeviceInfo {
  Device device;
  std::string name;
  size_t memory_bytes = 0;
  int compute_major = 0, compute_minor = 0;
  int multiprocessors = 0;
  int memory_clock_khz = 0;       // peak memory clock
  int memory_bus_width_bits = 0;
  // Theoretical DRAM bandwidth (double data rate), the yardstick for bandwidth benchmarks.
  double peak_bandwidth_bytes_per_s() const {
    return 2.0 * memory_clock_khz * 1e3 * (memory_bus_width_bits / 8.0);
  }
};

// A failed CUDA or cuBLAS call. The message names the call, file, line and a remedy;
// out_of_memory() lets a scheduler retry with fewer trials per GPU instead of failing the job.
class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& what, bool out_of_memory)
      : std::runtime_error(what), out_of_memory_(out_of_memory) {}
  bool out_of_memory() const { return out_of_memory_; }

 private:
  bool out_of_memory_ = false;
};

// True when this binary was built with the CUDA backend.
bool cuda_compiled();
// CUDA devices the runtime can see (honours CUDA_VISIBLE_DEVICES); empty without a GPU or
// without the CUDA backend.
std::vector<DeviceInfo> cuda_devices();
// One line for logs: "CUDA: 1 device (NVIDIA H100 80GB HBM3)" or why there is none.
std::string describe_compute();

}  // namespace tabpilot
