// The MLP trainer that runs entirely on one GPU, for one trial or K trials trained as one batch
// (strided-batched GEMMs, or grouped GEMMs when widths differ; per-trial hyperparameters in
// device arrays).
// It replays trainer/mlp.cpp step for step: the seeded init and shuffle below are shared with
// it, dropout masks come from the same counter hash, AdamW and early stopping follow it.
// C++17, no CUDA headers; without CUDA the entry points throw UnavailableError.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tabpilot/cuda/stream.h"
#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot {

// ---- seeded pieces shared with the CPU trainer (so both draw the same numbers) -----------

// The three streams of randomness one trial seed drives.
inline uint64_t mlp_init_seed(uint64_t seed) { return mix_hash(seed, 1); }
inline uint64_t mlp_shuffle_seed(uint64_t seed) { return mix_hash(seed, 2); }
inline uint64_t mlp_dropout_seed(uint64_t seed) { return mix_hash(seed, 3); }

// Layer l's initial weights [out, in]: He-uniform for ReLU layers, Glorot-uniform for the
// output layer, element i drawn from mix_hash(mix_hash(init_seed, l), i). Biases start at 0.
inline std::vector<float> mlp_initial_weights(int l, int in, int out, bool output_layer,
                                              uint64_t init_seed) {
  const double limit = output_layer ? std::sqrt(6.0 / (in + out)) : std::sqrt(6.0 / in);
  std::vector<float> w(static_cast<size_t>(in) * out);
  const uint64_t layer_seed = mix_hash(init_seed, static_cast<uint64_t>(l));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<float>(limit * (2.0 * uniform_from_hash(mix_hash(layer_seed, i)) - 1.0));
  return w;
}

// Fisher-Yates driven by the counter hash: the same order on every platform. The epoch's
// order is mlp_shuffle(order, mix_hash(mlp_shuffle_seed(seed), epoch)), applied to the
// previous epoch's order (epochs are 1-based).
inline void mlp_shuffle(uint32_t* order, size_t n, uint64_t seed) {
  for (size_t i = n; i > 1; --i) {
    const size_t j = mix_hash(seed, i) % i;
    std::swap(order[i - 1], order[j]);
  }
}
inline void mlp_shuffle(std::vector<uint32_t>& order, uint64_t seed) {
  mlp_shuffle(order.data(), order.size(), seed);
}

// The dropout seed of hidden layer l at 1-based optimizer step `step`.
inline uint64_t mlp_step_dropout_seed(uint64_t dropout_seed, int step, int l) {
  return mix_hash(dropout_seed, static_cast<uint64_t>(step) * 4 + static_cast<uint64_t>(l));
}

// ---- the device trainer ----------------------------------------------------------------

// One trial: its shape (num_hidden and batch_size must agree across a batch; width may
// differ) and its hyperparameters.
struct MlpTrialSpec {
  int num_hidden = 2;   // ReLU hidden layers
  int width = 128;      // units per hidden layer
  int batch_size = 256;
  float learning_rate = 1e-3f;
  float weight_decay = 1e-5f;  // AdamW, on weights only
  float dropout = 0.1f;        // after each hidden layer, in [0, 1)
  uint64_t seed = 0;           // drives init, shuffles and dropout as in trainer/mlp.cpp
};

// Host-memory training data, already standardized (and the regression target already
// scaled): what trainer/mlp.cpp feeds its own loop. Row-major, `dim` floats per row. Labels
// of classification are class indices stored as float. n_valid = 0: no early stopping.
struct MlpTrainData {
  int dim = 0;
  int outputs = 1;  // 1 for regression (MSE), the class count for softmax cross-entropy
  bool classification = false;
  const float* x_train = nullptr;
  const float* y_train = nullptr;
  size_t n_train = 0;
  const float* x_valid = nullptr;
  const float* y_valid = nullptr;
  size_t n_valid = 0;
};

struct MlpTrainOptions {
  int device = 0;  // CUDA ordinal
  int max_epochs = 100;
  int patience = 10;
  // TF32 tensor-core GEMMs: several times faster, ~1e-3 relative error per product. Off by
  // default, so that the device replays the CPU trainer to FP32 rounding.
  bool tf32 = false;
  // Multiplies the mean losses before they are compared and reported (the regression target's
  // variance, so losses are in target units as on the CPU).
  double loss_scale = 1.0;
  // Stream to queue the work on (its device must be `device`); nullptr: a stream of its own.
  StreamHandle stream = nullptr;
  // After each epoch of each live trial: (trial index, 1-based epoch, loss). Returns "" to go
  // on, or a reason (e.g. "pruned") to stop that trial, keeping its best weights.
  std::function<std::string(int trial, int epoch, double loss)> on_epoch;
  // Polled once per epoch; true stops every trial with reason "stop_token".
  std::function<bool()> should_stop;
};

struct MlpTrialResult {
  // Best weights per layer (hidden layers then the output layer): w[out, in], b[out].
  std::vector<std::vector<float>> w, b;
  std::vector<double> losses;  // per epoch: validation loss, or mean training loss
  int epochs = 0;              // epochs run
  int best_epoch = 0;
  double best_loss = 0.0;
  // "max_epochs", "early_stopping", a reason from on_epoch, "stop_token", or
  // "non_finite_loss" (then the weights are those of the last finite best, and failed = true).
  std::string stopped;
  bool failed = false;
};

// What the run cost; the tests assert that nothing is allocated once the loop starts.
struct MlpTrainStats {
  size_t cuda_mallocs_in_loop = 0;  // pool cudaMalloc calls after setup (must be 0)
  size_t pool_bytes = 0;            // device bytes this run took from the pool
  double setup_seconds = 0.0;       // uploads and buffers
  std::vector<double> epoch_seconds;  // wall time of each epoch, validation included
};

// Trains K = specs.size() trials as one batch on one GPU. All specs must share num_hidden and
// batch_size (else InputError names the first mismatch). Equal widths train with
// strided-batched GEMMs; different widths (cuBLAS >= 12.5) with one grouped-batched GEMM per
// layer step over the trials sorted by width, each trial computed as in its single run.
// Results are in the order of `specs`; on_epoch gets the caller's trial indices, but within an
// epoch trials of a mixed batch are reported in order of width.
std::vector<MlpTrialResult> train_mlp_batch_cuda(const std::vector<MlpTrialSpec>& specs,
                                                 const MlpTrainData& data,
                                                 const MlpTrainOptions& options,
                                                 MlpTrainStats* stats = nullptr);

// One trial: the batch of one.
MlpTrialResult train_mlp_cuda(const MlpTrialSpec& spec, const MlpTrainData& data,
                              const MlpTrainOptions& options, MlpTrainStats* stats = nullptr);

}  // namespace tabpilot
