// Trial leases: who runs a RUNNING trial and whether that worker is still there. A worker is
// "host:pid:start" (start: the process's start time in clock ticks after boot, so that a
// reused pid is a different worker). Its trials' heartbeats are renewed every
// kHeartbeatSeconds; a lease holds while the owner is a live process of this host, or, for
// another host's process, while its last heartbeat is younger than kLeaseSeconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "tabpilot/store/trial_store.h"

namespace tabpilot {

inline constexpr double kHeartbeatSeconds = 5;
inline constexpr double kLeaseSeconds = 30;

struct WorkerId {
  std::string host;
  int64_t pid = 0;
  uint64_t start = 0;
  std::string str() const;  // "host:pid:start"
};

// This process.
const WorkerId& this_worker();
std::optional<WorkerId> parse_worker(const std::string& s);

// Whether `t`'s lease still holds at `now` (Unix seconds). A trial without an owner (written
// before leases existed) has none.
bool lease_holds(const TrialRecord& t, double now, double lease_seconds = kLeaseSeconds);

// The RUNNING trials whose lease lapsed, back to WAITING (the next ask claims them), reading
// the store's RUNNING trials now. Any worker of a job may run it, as often as it likes: a
// trial whose lease was renewed or that changed hands meanwhile is left alone
// (TrialStore::requeue). Returns how many.
int requeue_lapsed(TrialStore& store, double now, double lease_seconds = kLeaseSeconds);

}  // namespace tabpilot
