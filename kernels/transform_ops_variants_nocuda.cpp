// The impute_scale_columns tile variants in a build without the CUDA backend: they exist and
// say how to get them, like the other CUDA kernels (transform_ops_nocuda.cpp).
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/transform_ops_variants.h"

namespace tabpilot {

void impute_scale_columns_cuda_variant(int, const float* const*, size_t, int32_t, const float*,
                                       const float*, const float*, float*, size_t,
                                       StreamHandle) {
  throw_cuda_unavailable("impute_scale_columns_cuda_variant");
}

}  // namespace tabpilot
