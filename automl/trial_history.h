// A worker's view of a job's trials, kept current by what changed (TrialStore::changes_since)
// instead of reading every trial on every ask: an ask then reads what changed since the last
// one, whichever the number of trials. It relies on the stores' promise that versions commit
// in order (a reader that saw one change saw every earlier one). Not thread safe: its owner
// serializes refreshes (asks are one at a time).
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tabpilot/store/trial_store.h"

namespace tabpilot {

class TrialHistory {
 public:
  explicit TrialHistory(TrialStore& store) : store_(store) {}
  // Every trial of the job, in id order, as of now; valid until the next refresh.
  const std::vector<TrialRecord>& refresh();
  // How many trials the last refresh read from the store (for the benchmark).
  size_t last_read() const { return last_read_; }

 private:
  void put(TrialRecord t);

  TrialStore& store_;
  std::vector<TrialRecord> trials_;              // id order
  std::unordered_map<int64_t, size_t> position_;  // id -> index in trials_
  int64_t cursor_ = 0;
  size_t last_read_ = 0;
};

}  // namespace tabpilot
