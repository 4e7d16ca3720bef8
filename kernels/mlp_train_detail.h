// Internal to the device MLP trainer (mlp_train.cu and its two paths): the batch's layout,
// its device buffers, and the GEMM-shaped steps in the two ways a batch can lie in memory —
// K equal widths as strided-batched GEMMs (mlp_train_strided.cu), or mixed widths sorted into
// width groups as grouped-batched GEMMs over device pointer tables (mlp_train_grouped.cu).
// Included only by .cu files (it uses the device buffers of cuda/memory_pool.h).
#pragma once
#include <cublas_v2.h>

#include <memory>
#include <vector>

#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/kernels/mlp_batched_detail.h"
#include "tabpilot/kernels/mlp_train_cuda.h"

namespace tabpilot::mlp_train_detail {

namespace mb = mlp_batched;

constexpr int kEvalChunk = 2048;  // validation rows per pass, as on the CPU

// Trials [first, first + count) share `width` (the grouped path sorts trials by width).
struct WidthGroup {
  int first, count, width;
};

// Shapes and the flat parameter layout of one batch: trial k's weights of layer l start at
// w_off[l] + wpre[l][k], its outputs (activations, biases) at opre[l][k] units in.
struct Layout {
  int K = 0, hidden = 0, width = 0, dim = 0, outputs = 0, L = 0;
  size_t n = 0, nv = 0;
  int bmax = 0, chunk = 0;
  size_t xb_stride = 0;  // floats per trial in the gathered mini-batch
  std::vector<int> widths, hprefix;  // per trial, and their prefix sums (K + 1)
  std::vector<WidthGroup> groups;
  bool grouped = false;  // mixed widths
  std::vector<std::vector<size_t>> wpre, opre;
  size_t widest_layer = 0;  // the most output units of one layer over all trials
  std::vector<int> lin, lout;  // the shapes of the equal-width path
  std::vector<size_t> w_off, b_off;
  mb::Segments segs;

  int in_of(int l, int k) const { return l == 0 ? dim : widths[k]; }
  int out_of(int l, int k) const { return l < hidden ? widths[k] : outputs; }
};

Layout make_layout(const std::vector<MlpTrialSpec>& specs, const MlpTrainData& data);

// Every device buffer of the batch, taken from the pool before the first step.
struct Buffers {
  DeviceBuffer<float> x_tr, y_tr, x_va, y_va;
  DeviceBuffer<uint32_t> order;
  DeviceBuffer<float> xb, yb;  // the gathered mini-batch of every trial
  std::vector<DeviceBuffer<float>> act, dact;  // per layer
  DeviceBuffer<float> eval_a, eval_b;  // ping-pong activations of a validation chunk
  DeviceBuffer<float> params, grads, adam_m, adam_v, best;
  DeviceBuffer<float> rates, scales, lrs, decays;  // per trial
  DeviceBuffer<uint64_t> seeds;                    // per trial dropout seeds
  DeviceBuffer<int> flags;                         // improved[K], active[K]
  DeviceBuffer<double> partials, acc;
  DeviceBuffer<float> ones;
};

// The layer-by-layer work of one batch; the driver (mlp_train.cu) runs the loss, the
// epochs and the host's decisions around it.
class BatchPath {
 public:
  virtual ~BatchPath() = default;
  // Forward through every layer of the gathered mini-batch of `rows` rows; the last layer's
  // output is left in act[hidden] (its bias is the loss kernel's). `step` seeds dropout.
  virtual void forward(int rows, int step) = 0;
  // Gradients of every layer from dact[hidden] back, through ReLU and dropout.
  virtual void backward(int rows) = 0;
  virtual void adamw(const mb::AdamScalars& a, const int* active) = 0;
  // Validation rows [begin, begin + rows): returns the last layer's output (bias not added).
  virtual const float* evaluate(size_t begin, int rows) = 0;
  // best = params for the trials whose flag is set.
  virtual void keep_best(const int* improved) = 0;
};

std::unique_ptr<BatchPath> strided_path(cublasHandle_t h, const Layout& layout, Buffers& b,
                                        StreamHandle s);
std::unique_ptr<BatchPath> grouped_path(cublasHandle_t h, const Layout& layout, Buffers& b,
                                        MemoryPool& pool, StreamHandle s);

// db[out] = column sums of dy[n, out] for k trials (strided), deterministic run to run.
void bias_grad(cublasHandle_t h, const float* dy, long long dy_stride, const float* ones,
               long long ones_stride, float* db, int n, int out, int k);

}  // namespace tabpilot::mlp_train_detail
