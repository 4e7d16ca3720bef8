#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/memory_pool.h"

namespace tabpilot {

namespace {
// cuBLAS's recommended workspace on Hopper; smaller GPUs need less but it is a one-off.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;
}  // namespace

struct BlasHandleRegistry {
  std::mutex mutex;
  std::map<std::pair<int, StreamHandle>, std::unique_ptr<BlasHandle>> handles;

  static BlasHandleRegistry& instance() {
    static auto* r = new BlasHandleRegistry();  // never destroyed: see MemoryPool::for_device
    return *r;
  }
  BlasHandle& get(Device device, StreamHandle stream) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = handles[{device.ordinal, stream}];
    if (!slot) slot.reset(new BlasHandle(device, stream));
    return *slot;
  }
};

BlasHandle::BlasHandle(Device device, StreamHandle stream) : device_(device), stream_(stream) {
  ScopedDevice guard(device);
  TABPILOT_CUBLAS_CHECK(cublasCreate(&handle_));
  try {
    TABPILOT_CUBLAS_CHECK(cublasSetStream(handle_, stream));
    workspace_ = MemoryPool::for_device(device).allocate(kWorkspaceBytes, stream);
    TABPILOT_CUBLAS_CHECK(cublasSetWorkspace(handle_, workspace_, kWorkspaceBytes));
    TABPILOT_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  } catch (...) {
    if (workspace_) MemoryPool::for_device(device).release(workspace_);
    cublasDestroy(handle_);
    throw;
  }
}

BlasHandle::~BlasHandle() {
  int previous = 0;
  TABPILOT_CUDA_WARN(cudaGetDevice(&previous));
  TABPILOT_CUDA_WARN(cudaSetDevice(device_.ordinal));
  cublasDestroy(handle_);
  if (workspace_) MemoryPool::for_device(device_).release(workspace_);
  TABPILOT_CUDA_WARN(cudaSetDevice(previous));
}

BlasHandle& BlasHandle::get(Device device, StreamHandle stream) {
  if (!device.is_cuda())
    throw InputError("BlasHandle: device " + device.str() + " is not a CUDA device");
  return BlasHandleRegistry::instance().get(device, stream);
}

BlasHandle& BlasHandle::current(StreamHandle stream) {
  int ordinal = 0;
  TABPILOT_CUDA_CHECK(cudaGetDevice(&ordinal));
  return get(Device::cuda(ordinal), stream);
}

void BlasHandle::set_math(BlasMath math) {
  TABPILOT_CUBLAS_CHECK(cublasSetMathMode(
      handle_, math == BlasMath::kTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  math_ = math;
}

namespace cuda_detail {

void drop_blas_handles(StreamHandle stream) noexcept {
  auto& r = BlasHandleRegistry::instance();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto it = r.handles.begin(); it != r.handles.end();) {
    if (it->first.second == stream)
      it = r.handles.erase(it);
    else
      ++it;
  }
}

}  // namespace cuda_detail
}  // namespace tabpilot
