// Device discovery through the CUDA runtime. The runtime itself honours
// CUDA_VISIBLE_DEVICES, so the ordinals here are the visible ones.
#include <cuda_runtime.h>

#include "tabpilot/cuda/device.h"

namespace tabpilot {

bool cuda_compiled() { return true; }

std::vector<DeviceInfo> cuda_devices() {
  int count = 0;
  // No driver or no GPU: report none rather than fail, so the CPU path runs.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return {};
  }
  std::vector<DeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    DeviceInfo info;
    info.device = Device::cuda(i);
    info.name = prop.name;
    info.memory_bytes = prop.totalGlobalMem;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    // CUDA 13 dropped memoryClockRate from cudaDeviceProp; the attribute remains.
    cudaDeviceGetAttribute(&info.memory_clock_khz, cudaDevAttrMemoryClockRate, i);
    cudaDeviceGetAttribute(&info.memory_bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, i);
    out.push_back(info);
  }
  return out;
}

}  // namespace tabpilot
