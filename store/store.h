// The trial and job store: one SQLite file in the job folder (WAL mode), the only owner of
// trial state. Trials move WAITING -> RUNNING -> COMPLETE | PRUNED | FAIL and are immutable
// once finished. Thread-safe: one connection guarded by a mutex.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace tabpilot {

enum class TrialState { kWaiting, kRunning, kComplete, kPruned, kFail };
std::string_view to_string(TrialState s);  // "WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAIL"
TrialState trial_state_from_string(std::string_view s);

struct TrialRecord {
  int64_t id = 0;          // 1, 2, ... in creation order
  std::string name;        // e.g. "abalone-v0-dpp1-xgboost-007"
  std::string candidate;   // candidate definition name, e.g. "dpp1-xgboost"
  std::string learner;
  TrialState state = TrialState::kWaiting;
  nlohmann::json params = nlohmann::json::object();
  // {"validation": {"MSE": 1.2, ...}, "train": {...}}
  nlohmann::json metrics = nlohmann::json::object();
  std::optional<double> objective;  // validation objective value, when COMPLETE
  double created_at = 0, started_at = 0, finished_at = 0;  // Unix seconds
  std::string error;       // FAIL/PRUNED reason
  nlohmann::json info = nlohmann::json::object();  // learner fit_info, timings
  std::vector<std::pair<int, double>> intermediate;  // (step, value)
};

class Store {
 public:
  // Opens or creates the file; creates the schema; WAL journal. Throws std::runtime_error
  // naming the path on failure.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  void put_job(const nlohmann::json& job);  // replaces the job document
  std::optional<nlohmann::json> get_job() const;
  // Small named values the job keeps across runs (e.g. the seconds already spent, for resume).
  void put_value(const std::string& key, const nlohmann::json& value);
  std::optional<nlohmann::json> get_value(const std::string& key) const;

  int64_t create_trial(const std::string& name, const std::string& candidate,
                       const std::string& learner, const nlohmann::json& params);
  void start_trial(int64_t id);  // WAITING -> RUNNING
  void report_intermediate(int64_t id, int step, double value);
  // RUNNING -> COMPLETE | PRUNED | FAIL. Throws std::logic_error if already finished.
  void finish_trial(int64_t id, TrialState state, const nlohmann::json& metrics,
                    std::optional<double> objective, const std::string& error,
                    const nlohmann::json& info);
  // RUNNING trials back to WAITING (used when resuming a killed job).
  int requeue_running();

  std::optional<TrialRecord> trial(int64_t id) const;
  std::vector<TrialRecord> trials() const;  // in id order, intermediate values included

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  mutable std::mutex mutex_;
};

}  // namespace tabpilot
