// CUDA twins of mlp_ops.h (same arguments plus a trailing stream, device pointers, queued on
// the current device), and device-side metric reductions. GEMMs run through cuBLAS on the
// handle for (current device, stream): BlasHandle::get(...).set_math(BlasMath::kTf32) turns
// on TF32. Functions returning a sum wait for the stream. C++17, no CUDA headers; without
// CUDA they throw UnavailableError.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tabpilot/cuda/stream.h"
#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot {

void dense_forward_cuda(const float* x, const float* w, const float* b, float* y, int n, int in,
                        int out, StreamHandle stream);

// db is summed in a fixed order (deterministic run to run), not the CPU's row order.
void dense_backward_cuda(const float* x, const float* w, const float* dy, float* dx, float* dw,
                         float* db, int n, int in, int out, StreamHandle stream);

// Draws the same mask as bias_relu_dropout_cpu (mix_hash of the flat index): bit-identical.
void bias_relu_dropout_cuda(float* h, const float* bias, int n, int width, float rate,
                            uint64_t seed, StreamHandle stream);

void relu_dropout_backward_cuda(const float* a, float* da, int n, int width, float rate,
                                StreamHandle stream);

// Labels outside [0, k) give a NaN row loss (the CPU twin's behaviour there is undefined).
double softmax_xent_cuda(const float* logits, const float* labels, const float* row_weight,
                         float* grad, float* row_loss, int n, int k, float grad_scale,
                         StreamHandle stream);

double mse_cuda(const float* pred, const float* target, float* grad, float* row_loss,
                size_t count, float grad_scale, StreamHandle stream);

void adamw_step_cuda(float* param, const float* grad, float* m, float* v, size_t count,
                     const AdamConfig& config, int t, StreamHandle stream);

// Metrics on device, one value copied back: sum of (pred - target)^2 in double, and the number
// of rows whose argmax over scores[n, k] (first index on ties) equals labels[r] (as float).
double sum_squared_error_cuda(const float* pred, const float* target, size_t count,
                              StreamHandle stream);
int64_t argmax_correct_cuda(const float* scores, const float* labels, int n, int k,
                            StreamHandle stream);

}  // namespace tabpilot
