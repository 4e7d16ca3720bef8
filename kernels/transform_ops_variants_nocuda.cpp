// The impute_scale_columns tile variants in a build without the CUDA backend: they exist and
// say how to get them, like the other CUDA kernels (transform_ops_nocuda.cpp).
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops_variants.h"

namespace tabpilot {

void impute_scale_columns_cuda_variant(int, const float* const*, size_t, int32_t, const float*,
                                       const float*, const float*, float*, size_t,
                                       StreamHandle) {
  throw UnavailableError(
      "impute_scale_columns_cuda_variant: the CUDA kernels are not compiled in; rebuild with "
      "-DTABPILOT_CUDA=ON and the CUDA toolkit, or use the CPU");
}

}  // namespace tabpilot
