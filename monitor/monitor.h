// Model monitoring of a fitted job, in SageMaker Model Monitor's file formats (contract
// 5.2-5.4): a baseline (statistics.json + constraints.json) from the job's training data over
// the feature columns (what the endpoint receives), and a check of captured requests (or a
// CSV) against it that writes constraint_violations.json and the current statistics.json.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/table.h"

namespace tabpilot::monitor {

inline constexpr const char* kMonitoringDir = "monitoring";
inline constexpr const char* kStatisticsFile = "statistics.json";
inline constexpr const char* kConstraintsFile = "constraints.json";
inline constexpr const char* kViolationsFile = "constraint_violations.json";
inline constexpr const char* kExecutionFile = "monitoring_execution.json";

// The job facts monitoring needs, from job.json and data_exploration.json.
struct JobColumns {
  std::string train_path, target;
  std::vector<std::string> features;  // training order
  // Every column of the training file (features, target, dropped ID-like columns): a CSV
  // that carries them is not reported as having extra columns.
  std::vector<std::string> training_columns;
};
JobColumns job_columns(const std::filesystem::path& job_dir);

// constraints.json from baseline statistics: inferred_type, completeness, is_non_negative,
// domains for strings of at most kMaxDomainSize values, and the default monitoring_config
// (Robust, thresholds 0.1, LInfinity).
inline constexpr size_t kMaxDomainSize = 20;
nlohmann::json suggest_constraints(const nlohmann::json& statistics);

struct BaselineResult {
  std::filesystem::path output_dir;
  size_t rows = 0, features = 0;
};
// `data_csv` empty: the training file named in job.json. `output_dir` empty: JOB/monitoring.
BaselineResult run_baseline(const std::string& job_dir, const std::string& data_csv,
                            const std::string& output_dir);

struct CheckInput {
  std::string capture_dir;   // *.jsonl data capture, or
  std::string data_csv;      // a CSV with a header (training columns that are not features, such
                             // as the target, are ignored)
  std::string baseline_dir;  // empty: JOB/monitoring
  std::string output_dir;    // empty: JOB/monitoring/check-<UTC time>
};
struct CheckResult {
  std::string status;  // "Completed" | "CompletedWithViolations"
  nlohmann::json violations = nlohmann::json::array();
  nlohmann::json execution;  // what monitoring_execution.json holds
  std::filesystem::path output_dir;
  size_t rows = 0, records = 0, bad_records = 0;
  std::string first_bad;
};
CheckResult run_check(const std::string& job_dir, const CheckInput& input);

// The violations of `current` (columns by name) against a baseline. Exposed for tests.
nlohmann::json find_violations(const Table& current, const std::vector<std::string>& extra_columns,
                               const nlohmann::json& baseline_statistics,
                               const nlohmann::json& constraints);

}  // namespace tabpilot::monitor
