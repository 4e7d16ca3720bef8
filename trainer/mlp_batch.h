// Several MLP trials on the same data as one batch: on a GPU one batched training
// (kernels/mlp_train_cuda.h: strided-batched GEMMs, or grouped GEMMs when widths differ),
// anywhere else one trial after another. The tuner hands a GPU slot such a batch.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tabpilot/trainer/learner.h"

namespace tabpilot {

// The hyperparameters a batch must share, and that the tuner copies from a batch's leader to
// its companions: num_layers, batch_size, max_epochs, patience. The rest — width, learning
// rate, weight decay, dropout, seed — differ per trial; equal widths train as one
// strided-batched run on a GPU, mixed widths as grouped-batched GEMMs.
inline const std::vector<std::string>& mlp_batch_keys() {
  static const std::vector<std::string> keys = {"num_layers", "batch_size", "max_epochs",
                                                "patience"};
  return keys;
}

// Trial i uses params[i] and seeds[i] (its FitContext seed). ctx.report is not called
// (per-trial pruning inside a batch is the trainer's early stopping); ctx.stop stops all.
// Throws InputError when the params do not share mlp_batch_keys().
std::vector<BatchFitResult> fit_mlp_batch(const FitData& data, const std::vector<Params>& params,
                                          const std::vector<uint64_t>& seeds,
                                          const FitContext& ctx);

}  // namespace tabpilot
