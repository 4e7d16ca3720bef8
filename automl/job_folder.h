// The job folder's file names and job.json, the DescribeAutoMLJob-like document that
// `tabpilot describe` prints.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/job.h"
#include "tabpilot/store/trial_store.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot {

inline constexpr const char* kJobFile = "job.json";
inline constexpr const char* kStoreFile = kStoreFileName;
inline constexpr const char* kDataExplorationFile = "data_exploration.json";
inline constexpr const char* kCandidatesFile = "candidate_definitions.json";
inline constexpr const char* kTrialsCsv = "trials.csv";
inline constexpr const char* kModelDir = "model";

struct JobSummary {
  std::string name;
  JobConfig config;
  Task task = Task::kRegression;
  bool task_detected = true;
  Metric objective = Metric::kMSE;
  JobStatus status = JobStatus::kInProgress;
  std::string secondary_status, failure_reason;
  double creation_time = 0;
  bool ended = false;
  std::optional<int64_t> best_trial_id;
  size_t num_features = 0, train_rows = 0;
  std::string train_sha256;  // of the training file, so that a re-run can check it is the same
};

// Everything in a JobConfig that decides what a job computes (not callbacks), as JSON, and
// back. job.json keeps it under tabpilot.config; reproduce and resume read it.
nlohmann::json job_config_json(const JobConfig& c);
JobConfig job_config_from_json(const nlohmann::json& j);

// AutoMLJobName, AutoMLJobStatus, AutoMLJobSecondaryStatus, BestCandidate (when one
// completed), ResolvedAttributes, AutoMLJobArtifacts, FailureReason, ...
nlohmann::json job_description(const JobSummary& s, const TrialStore* store,
                               const std::filesystem::path& job_dir);

// An AutoMLCandidate for a trial record.
nlohmann::json candidate_json(const TrialRecord& t, Metric objective,
                              const std::filesystem::path& job_dir);

// A job folder from a path that is one, or throws InputError saying what is missing.
std::filesystem::path require_job_dir(const std::string& dir);

// The store URL job.json's configuration names; empty for the folder's own SQLite file.
std::string store_spec(const nlohmann::json& job);

// The store of a job folder, as its job.json names it (the folder's SQLite file, or the
// PostgreSQL database its configuration's store URL names).
std::unique_ptr<TrialStore> open_folder_store(const std::filesystem::path& job_dir,
                                              const nlohmann::json& job);
std::unique_ptr<TrialStore> open_folder_store(const std::filesystem::path& job_dir);

}  // namespace tabpilot
