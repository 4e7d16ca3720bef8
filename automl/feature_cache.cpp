#include "tabpilot/automl/feature_cache.h"

#include <malloc.h>  // for malloc_trim

#include <chrono>

namespace tabpilot {

FeatureCache::FeatureCache(const JobPlan& plan, bool keep_one_recipe)
    : plan_(plan),
      keep_one_recipe_(keep_one_recipe),
      entries_(plan.recipe_count * plan.splits.size()) {}

std::shared_ptr<const FoldFeatures> FeatureCache::get(size_t recipe, size_t fold) {
  std::shared_ptr<Entry> held;
  bool evicted = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t key = recipe * plan_.splits.size() + fold;
    if (keep_one_recipe_)
      for (size_t i = 0; i < entries_.size(); ++i)
        if (i != key && entries_[i] && entries_[i].use_count() == 1) {
          entries_[i].reset();
          evicted = true;
        }
    if (!entries_[key]) entries_[key] = std::make_shared<Entry>();
    held = entries_[key];
  }
  if (evicted) ::malloc_trim(0);  // give the evicted features' pages back to the system
  Entry& e = *held;
  std::call_once(e.once, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    const Split& s = plan_.splits[fold];
    const Table& table = *plan_.table;
    FoldFeatures& f = e.features;
    // The recipe is the same for every candidate that shares it.
    size_t cand = 0;
    while (plan_.recipe_of[cand] != recipe) ++cand;
    f.transform.fit(table, plan_.features, s.train, plan_.candidates[cand].recipe);
    f.x_train = f.transform.transform(table, &s.train);
    f.x_valid = f.transform.transform(table, &s.valid);
    for (size_t i : s.train) f.y_train.push_back(plan_.target.y[i]);
    for (size_t i : s.valid) f.y_valid.push_back(plan_.target.y[i]);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::lock_guard<std::mutex> lock(mutex_);
    seconds_ += secs;
    rows_ += static_cast<double>(s.train.size() + s.valid.size());
  });
  // The entry stays alive as long as the caller holds the pointer, evicted or not.
  return std::shared_ptr<const FoldFeatures>(held, &held->features);
}

void FeatureCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& e : entries_) e.reset();
}

double FeatureCache::transform_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seconds_;
}

double FeatureCache::transform_rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rows_;
}

}  // namespace tabpilot
