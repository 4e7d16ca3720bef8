// The device MLP trainer in a build without the CUDA backend: it exists and says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/kernels/mlp_train_cuda.h"

namespace tabpilot {
namespace {
[[noreturn]] void unavailable(const char* name) {
  throw UnavailableError(std::string(name) +
                         ": the CUDA MLP trainer is not compiled in; rebuild with "
                         "-DTABPILOT_CUDA=ON and the CUDA toolkit, or train on the CPU");
}
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
