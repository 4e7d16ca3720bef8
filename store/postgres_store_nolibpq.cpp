// Built instead of postgres_store.cpp when libpq is absent: SQLite stores work, a
// postgresql:// store says how to get it.
#include "tabpilot/common/error.h"
#include "tabpilot/store/postgres_store.h"

namespace tabpilot {

std::unique_ptr<TrialStore> open_store(const std::string& spec,
                                       const std::filesystem::path& job_dir,
                                       const std::string& job) {
  if (spec.empty()) return open_job_store(job_dir);
  throw UnavailableError("--store " + spec +
                         ": this build has no PostgreSQL client; install libpq-dev "
                         "(./scripts/setup.sh does) and rebuild");
}

}  // namespace tabpilot
