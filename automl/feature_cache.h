// The features of each (recipe, fold) of a plan: the recipe's transform fitted on the fold's
// training rows only, the transformed training and validation matrices and their targets.
// Computed once, on first use, by whichever trial asks first; shared by every trial of the
// candidates that use the recipe. On large data only one recipe is kept at a time (its
// matrices are hundreds of MB), and a recipe asked for again is recomputed.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "tabpilot/automl/job_plan.h"
#include "tabpilot/trainer/features.h"

namespace tabpilot {

struct FoldFeatures {
  FeatureTransform transform;
  Matrix x_train, x_valid;
  std::vector<float> y_train, y_valid;
};

class FeatureCache {
 public:
  // `plan` must outlive the cache. keep_one_recipe: evict other recipes' unused features.
  FeatureCache(const JobPlan& plan, bool keep_one_recipe);

  // Thread safe; the features are computed once, under a per-entry once-flag, so trials of
  // other recipes are not held up meanwhile.
  std::shared_ptr<const FoldFeatures> get(size_t recipe, size_t fold);
  // Drops every entry not in use (the refit frees the tuning features first).
  void clear();

  // Time spent transforming and the rows transformed, for job.json's timings.
  double transform_seconds() const;
  double transform_rows() const;

 private:
  struct Entry {
    std::once_flag once;
    FoldFeatures features;
  };
  const JobPlan& plan_;
  const bool keep_one_recipe_;
  mutable std::mutex mutex_;  // guards entries_, seconds_, rows_
  std::vector<std::shared_ptr<Entry>> entries_;
  double seconds_ = 0, rows_ = 0;
};

}  // namespace tabpilot
