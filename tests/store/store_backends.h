// The trial-store backends the conformance suite runs against. A backend gives a fresh
// location (one job's store) and opens a store there; opening the same location twice gives
// two handles on one job, as two processes would have.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/test_paths.h"
#include "tabpilot/store/trial_store.h"

namespace tabpilot::testing {

struct StoreBackend {
  std::string name;
  std::function<std::string()> new_location;
  std::function<std::unique_ptr<TrialStore>(const std::string& location)> open;
  bool available = true;
  std::string why_not;  // when not available (e.g. no server binaries)
};

inline StoreBackend sqlite_backend() {
  StoreBackend b;
  b.name = "sqlite";
  b.new_location = [] { return scratch_dir("store").string(); };
  b.open = [](const std::string& dir) { return open_job_store(dir); };
  return b;
}

inline std::vector<StoreBackend> store_backends() { return {sqlite_backend()}; }

}  // namespace tabpilot::testing
