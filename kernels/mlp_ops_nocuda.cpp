// The CUDA MLP kernels in a build without the CUDA backend: they exist and say how to get them.
#include <string>

#include "tabpilot/common/error.h"
#include "tabpilot/kernels/mlp_ops_cuda.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* what) { throw_cuda_unavailable(what); }
}  // namespace

void dense_forward_cuda(const float*, const float*, const float*, float*, int, int, int,
                        StreamHandle) {
  unavailable("dense_forward_cuda");
}
void dense_backward_cuda(const float*, const float*, const float*, float*, float*, float*, int,
                         int, int, StreamHandle) {
  unavailable("dense_backward_cuda");
}
void bias_relu_dropout_cuda(float*, const float*, int, int, float, uint64_t, StreamHandle) {
  unavailable("bias_relu_dropout_cuda");
}
void relu_dropout_backward_cuda(const float*, float*, int, int, float, StreamHandle) {
  unavailable("relu_dropout_backward_cuda");
}
double softmax_xent_cuda(const float*, const float*, const float*, float*, float*, int, int,
                         float, StreamHandle) {
  unavailable("softmax_xent_cuda");
}
double mse_cuda(const float*, const float*, float*, float*, size_t, float, StreamHandle) {
  unavailable("mse_cuda");
}
void adamw_step_cuda(float*, const float*, float*, float*, size_t, const AdamConfig&, int,
                     StreamHandle) {
  unavailable("adamw_step_cuda");
}
double sum_squared_error_cuda(const float*, const float*, size_t, StreamHandle) {
  unavailable("sum_squared_error_cuda");
}
int64_t argmax_correct_cuda(const float*, const float*, int, int, StreamHandle) {
  unavailable("argmax_correct_cuda");
}

}  // namespace tabpilot
