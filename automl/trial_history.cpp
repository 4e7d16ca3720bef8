#include "tabpilot/automl/trial_history.h"

#include <algorithm>

namespace tabpilot {

void TrialHistory::put(TrialRecord t) {
  if (auto it = position_.find(t.id); it != position_.end()) {
    trials_[it->second] = std::move(t);
    return;
  }
  if (trials_.empty() || trials_.back().id < t.id) {  // the usual case: a new trial
    position_[t.id] = trials_.size();
    trials_.push_back(std::move(t));
    return;
  }
  // An older id than the newest held: it cannot come from the stores (trials are created in
  // id order and their versions commit in order), but keeping id order costs nothing here.
  auto at = std::lower_bound(trials_.begin(), trials_.end(), t.id,
                             [](const TrialRecord& r, int64_t id) { return r.id < id; });
  trials_.insert(at, std::move(t));
  position_.clear();
  for (size_t i = 0; i < trials_.size(); ++i) position_[trials_[i].id] = i;
}

const std::vector<TrialRecord>& TrialHistory::refresh() {
  TrialChanges changes = store_.changes_since(cursor_);
  last_read_ = changes.trials.size();
  cursor_ = changes.cursor;
  for (auto& t : changes.trials) put(std::move(t));
  return trials_;
}

}  // namespace tabpilot
