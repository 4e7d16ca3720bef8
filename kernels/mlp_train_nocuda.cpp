// The device MLP trainer in a build without the CUDA backend: it exists and says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/mlp_train_cuda.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* what) { throw_cuda_unavailable(what); }
}  // namespace

std::vector<MlpTrialResult> train_mlp_batch_cuda(const std::vector<MlpTrialSpec>&,
                                                 const MlpTrainData&, const MlpTrainOptions&,
                                                 MlpTrainStats*) {
  unavailable("train_mlp_batch_cuda");
}

MlpTrialResult train_mlp_cuda(const MlpTrialSpec&, const MlpTrainData&, const MlpTrainOptions&,
                              MlpTrainStats*) {
  unavailable("train_mlp_cuda");
}

}  // namespace tabpilot
