// The trial-store backends the conformance suite runs against. A backend gives a fresh
// location (one job's store) and opens a store there; opening the same location twice gives
// two handles on one job, as two processes would have.
#pragma once
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "support/postgres_server.h"
#include "support/test_paths.h"
#include "tabpilot/store/postgres_store.h"
#include "tabpilot/store/trial_store.h"

namespace tabpilot::testing {

struct StoreBackend {
  std::string name;
  std::function<std::string()> new_location;
  std::function<std::unique_ptr<TrialStore>(const std::string& location)> open;
  bool available = true;
  std::string why_not;  // when not available (e.g. no server binaries)
};
// gtest names a failing parameter by this, not by its bytes.
inline void PrintTo(const StoreBackend& b, std::ostream* os) { *os << b.name; }

inline StoreBackend sqlite_backend() {
  StoreBackend b;
  b.name = "sqlite";
  b.new_location = [] { return scratch_dir("store").string(); };
  b.open = [](const std::string& dir) { return open_job_store(dir); };
  return b;
}

// One database on the test's own PostgreSQL server; a location is a job name in it (one
// database holds many jobs), so every test gets a job of its own.
inline StoreBackend postgres_backend() {
  StoreBackend b;
  b.name = "postgres";
  b.available = PostgresServer::available();
  b.why_not = PostgresServer::why_not();
#ifndef TABPILOT_HAVE_LIBPQ
  b.available = false;
  b.why_not = "this build has no libpq (install libpq-dev and rebuild)";
#endif
  b.new_location = [] {
    static int n = 0;
    return "job" + std::to_string(++n);
  };
  b.open = [](const std::string& job) -> std::unique_ptr<TrialStore> {
    static const std::string url = PostgresServer::shared().new_database();
    return std::make_unique<PostgresStore>(url, job);
  };
  return b;
}

inline std::vector<StoreBackend> store_backends() { return {sqlite_backend(), postgres_backend()}; }

}  // namespace tabpilot::testing
