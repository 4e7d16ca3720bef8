#include "tabpilot/store/trial_store.h"

#include <stdexcept>

#include "tabpilot/common/error.h"

namespace tabpilot {

bool is_finished(TrialState s) {
  return s == TrialState::kComplete || s == TrialState::kPruned || s == TrialState::kFail;
}

std::string_view to_string(TrialState s) {
  switch (s) {
    case TrialState::kWaiting:
      return "WAITING";
    case TrialState::kRunning:
      return "RUNNING";
    case TrialState::kComplete:
      return "COMPLETE";
    case TrialState::kPruned:
      return "PRUNED";
    case TrialState::kFail:
      return "FAIL";
  }
  return "?";
}

TrialState trial_state_from_string(std::string_view s) {
  for (TrialState t : {TrialState::kWaiting, TrialState::kRunning, TrialState::kComplete,
                       TrialState::kPruned, TrialState::kFail})
    if (to_string(t) == s) return t;
  throw InputError("unknown trial state '" + std::string(s) +
                   "' (known: WAITING, RUNNING, COMPLETE, PRUNED, FAIL)");
}

void check_store_name(const std::string& name, const std::string& what) {
  bool ok = !name.empty() && name != "." && name != ".." && name.size() <= 200;
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.');
  if (!ok) throw std::invalid_argument("store: " + what + " name '" + name + "' is not a plain name");
}

}  // namespace tabpilot
