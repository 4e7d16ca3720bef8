// Device discovery in a build without the CUDA backend: no devices, and it says so.
#include "tabpilot/cuda/device.h"

namespace tabpilot {

bool cuda_compiled() { return false; }
std::vector<DeviceInfo> cuda_devices() { return {}; }

}  // namespace tabpilot
