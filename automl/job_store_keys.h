// The values a job keeps in its store beside its trials: what a resumed run reads, and what a
// worker on another machine checks before it takes a trial (the same binary, the same data,
// the same plan) and follows while it works (the deadline, whether the job still runs).
#pragma once

namespace tabpilot::job_keys {

inline constexpr const char* kGivenConfig = "given_config";  // job_config_json as given
inline constexpr const char* kCreationTime = "creation_time";  // Unix seconds
inline constexpr const char* kElapsed = "elapsed_seconds";  // spent by earlier runs (resume)
inline constexpr const char* kVersion = "tabpilot_version";
inline constexpr const char* kTrainSha256 = "train_sha256";
inline constexpr const char* kPlanDigest = "plan_digest";  // JobPlan::digest()
inline constexpr const char* kTuningDeadline = "tuning_deadline";  // Unix seconds
inline constexpr const char* kStatus = "status";  // AutoMLJobStatus: workers stop past InProgress

}  // namespace tabpilot::job_keys
