// cuBLAS handles in a build without the CUDA backend: the API exists and says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cublas_handle.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable() { throw_cuda_unavailable("cuBLAS"); }
}  // namespace

BlasHandle& BlasHandle::get(Device, StreamHandle) { unavailable(); }
BlasHandle& BlasHandle::current(StreamHandle) { unavailable(); }
BlasHandle::~BlasHandle() = default;
void BlasHandle::set_math(BlasMath) { unavailable(); }

namespace cuda_detail {
void drop_blas_handles(StreamHandle) noexcept {}
}  // namespace cuda_detail

}  // namespace tabpilot
