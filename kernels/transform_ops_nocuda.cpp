// The CUDA transform kernels in a build without the CUDA backend: they exist and say how to
// get them. Callers pick the device once and reach these only for a CUDA device.
#include <string>

#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops_cuda.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* what) { throw_cuda_unavailable(what); }
}  // namespace

void impute_scale_cuda(const float*, size_t, float, float, float, float*, size_t, float*,
                       StreamHandle) {
  unavailable("impute_scale_cuda");
}
void one_hot_cuda(const int32_t*, size_t, const int32_t*, int32_t, int32_t, float*, size_t,
                  int32_t, StreamHandle) {
  unavailable("one_hot_cuda");
}
void ordinal_cuda(const int32_t*, size_t, const float*, int32_t, float*, size_t, StreamHandle) {
  unavailable("ordinal_cuda");
}
void date_part_cuda(const double*, size_t, DatePart, float*, size_t, StreamHandle) {
  unavailable("date_part_cuda");
}
void cyclic_encode_cuda(const float*, size_t, float, float*, size_t, StreamHandle) {
  unavailable("cyclic_encode_cuda");
}
void impute_scale_columns_cuda(const float* const*, size_t, int32_t, const float*, const float*,
                               const float*, float*, size_t, StreamHandle) {
  unavailable("impute_scale_columns_cuda");
}

}  // namespace tabpilot
