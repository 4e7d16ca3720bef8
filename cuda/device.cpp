#include "tabpilot/cuda/device.h"

namespace tabpilot {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(ordinal);
}

std::string describe_compute() {
  if (!cuda_compiled())
    return "CUDA: not compiled in (rebuild with -DTABPILOT_CUDA=ON and the CUDA toolkit); "
           "running everything on the CPU";
  auto devices = cuda_devices();
  if (devices.empty()) return "CUDA: no GPU visible; running everything on the CPU";
  std::string s = "CUDA: " + std::to_string(devices.size()) + " device(s)";
  for (const auto& d : devices) s += " [" + d.device.str() + " " + d.name + "]";
  return s;
}

}  // namespace tabpilot
