#include "tabpilot/automl/job_folder.h"

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/store/postgres_store.h"

namespace fs = std::filesystem;

namespace tabpilot {

std::filesystem::path require_job_dir(const std::string& dir) {
  fs::path p(dir);
  if (!fs::exists(p)) throw InputError(dir + ": no such job folder");
  if (!fs::exists(p / kJobFile))
    throw InputError(dir + ": not a tabpilot job folder (no " + std::string(kJobFile) + ")");
  return p;
}

std::string store_spec(const nlohmann::json& job) {
  if (!job.contains("tabpilot") || !job["tabpilot"].contains("config")) return {};
  return job["tabpilot"]["config"].value("store", std::string());
}

std::unique_ptr<TrialStore> open_folder_store(const fs::path& job_dir, const nlohmann::json& job) {
  return open_store(store_spec(job), job_dir, job.value("AutoMLJobName", job_dir.filename().string()));
}

std::unique_ptr<TrialStore> open_folder_store(const fs::path& job_dir) {
  const fs::path file = job_dir / kJobFile;
  return open_folder_store(job_dir, fs::exists(file) ? read_json(file) : nlohmann::json::object());
}

nlohmann::json candidate_json(const TrialRecord& t, Metric objective, const fs::path& job_dir) {
  const std::string metric(to_string(objective));
  nlohmann::json c = {
      {"CandidateName", t.name},
      {"CandidateDefinition", t.candidate},
      {"Learner", t.learner},
      {"CandidateStatus", t.state == TrialState::kComplete ? "Completed"
                          : t.state == TrialState::kFail   ? "Failed"
                          : t.state == TrialState::kPruned ? "Stopped"
                                                           : "InProgress"},
      {"ObjectiveStatus", t.state == TrialState::kComplete ? "Succeeded"
                          : t.state == TrialState::kFail   ? "Failed"
                                                           : "Pending"},
      {"HyperParameters", t.params},
      {"CreationTime", iso_time(t.created_at)},
  };
  if (t.finished_at > 0) c["EndTime"] = iso_time(t.finished_at);
  if (!t.error.empty()) c["FailureReason"] = t.error;
  if (t.objective) {
    c["FinalAutoMLJobObjectiveMetric"] = {
        {"Type", higher_is_better(objective) ? "Maximize" : "Minimize"},
        {"MetricName", metric},
        {"StandardMetricName", metric},
        {"Value", *t.objective}};
  }
  nlohmann::json datums = nlohmann::json::array();
  for (const char* set : {"train", "validation"}) {
    if (!t.metrics.contains(set)) continue;
    for (auto& [name, v] : t.metrics[set].items())
      datums.push_back({{"MetricName", name}, {"StandardMetricName", name}, {"Value", v},
                        {"Set", std::string(set) == "train" ? "Train" : "Validation"}});
  }
  c["CandidateProperties"] = {{"CandidateMetrics", datums}};
  return c;
}

std::string_view to_string(JobStatus s) {
  switch (s) {
    case JobStatus::kInProgress:
      return "InProgress";
    case JobStatus::kCompleted:
      return "Completed";
    case JobStatus::kFailed:
      return "Failed";
    case JobStatus::kStopped:
      return "Stopped";
  }
  return "Failed";
}

JobStatus job_status_from_string(std::string_view s) {
  for (JobStatus v : {JobStatus::kInProgress, JobStatus::kCompleted, JobStatus::kFailed,
                      JobStatus::kStopped})
    if (to_string(v) == s) return v;
  throw InputError("unknown job status '" + std::string(s) + "'");
}

nlohmann::json job_config_json(const JobConfig& c) {
  nlohmann::json j = {{"train_path", fs::absolute(c.train_path).string()},
                      {"target", c.target},
                      {"objective", c.objective},
                      {"max_candidates", c.max_candidates},
                      {"time_limit_s", c.time_limit_s},
                      {"trial_time_limit_s", c.trial_time_limit_s},
                      {"seed", c.seed},
                      {"threads", c.threads},
                      {"cv_folds", c.cv_folds},
                      {"validation_fraction", c.validation_fraction},
                      {"learners", c.learners},
                      {"refit", c.refit},
                      {"device", std::string(to_string(c.device))},
                      {"gpu_mlp_batch", c.gpu_mlp_batch},
                      {"cpu_mlp_batch", c.cpu_mlp_batch},
                      {"sampler", c.sampler},
                      {"slots_per_gpu", c.slots_per_gpu},
                      {"prune", c.prune},
                      {"tune_threshold", c.tune_threshold},
                      {"ensemble_rounds", c.ensemble_rounds},
                      {"ensemble_metric", c.ensemble_metric}};
  j["problem_type"] = c.problem_type ? nlohmann::json(to_string(*c.problem_type)) : nlohmann::json();
  if (!c.store.empty()) j["store"] = c.store;  // a URL without a password (refused otherwise)
  // Only when given, so that job folders written before the option compare equal on resume.
  if (!c.column_types.empty()) {
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [name, type] : c.column_types) types[name] = std::string(to_string(type));
    j["column_types"] = types;
  }
  return j;
}

JobConfig job_config_from_json(const nlohmann::json& j) {
  JobConfig c;
  c.train_path = j.at("train_path");
  c.target = j.at("target");
  c.objective = j.value("objective", "");
  c.max_candidates = j.value("max_candidates", c.max_candidates);
  c.time_limit_s = j.value("time_limit_s", c.time_limit_s);
  c.trial_time_limit_s = j.value("trial_time_limit_s", c.trial_time_limit_s);
  c.seed = j.value("seed", c.seed);
  c.threads = j.value("threads", c.threads);
  c.cv_folds = j.value("cv_folds", c.cv_folds);
  c.validation_fraction = j.value("validation_fraction", c.validation_fraction);
  c.learners = j.value("learners", c.learners);
  c.refit = j.value("refit", c.refit);
  c.device = device_mode_from_string(j.value("device", std::string("auto")));
  c.gpu_mlp_batch = j.value("gpu_mlp_batch", c.gpu_mlp_batch);
  c.cpu_mlp_batch = j.value("cpu_mlp_batch", c.cpu_mlp_batch);
  c.sampler = j.value("sampler", c.sampler);
  c.slots_per_gpu = j.value("slots_per_gpu", c.slots_per_gpu);
  c.prune = j.value("prune", c.prune);
  c.tune_threshold = j.value("tune_threshold", c.tune_threshold);
  c.ensemble_rounds = j.value("ensemble_rounds", c.ensemble_rounds);
  c.ensemble_metric = j.value("ensemble_metric", c.ensemble_metric);
  c.store = j.value("store", std::string());
  if (j.contains("column_types") && j["column_types"].is_object())
    for (const auto& [name, type] : j["column_types"].items())
      c.column_types[name] = column_type_from_string(type.get<std::string>());
  if (j.contains("problem_type") && j["problem_type"].is_string())
    c.problem_type = task_from_string(j["problem_type"].get<std::string>());
  return c;
}

nlohmann::json job_description(const JobSummary& s, const TrialStore* store, const fs::path& job_dir) {
  const std::string metric(to_string(s.objective));
  nlohmann::json criteria = {{"MaxCandidates", s.config.max_candidates},
                             {"MaxAutoMLJobRuntimeInSeconds", s.config.time_limit_s}};
  if (s.config.trial_time_limit_s > 0)
    criteria["MaxRuntimePerTrainingJobInSeconds"] = s.config.trial_time_limit_s;
  nlohmann::json j = {
      {"AutoMLJobName", s.name},
      {"InputDataConfig",
       {{{"ChannelType", "training"},
         {"DataSource", fs::absolute(s.config.train_path).string()},
         {"ContentType", "text/csv;header=present"},
         {"TargetAttributeName", s.config.target}}}},
      {"OutputDataConfig", {{"OutputPath", fs::absolute(job_dir).string()}}},
      {"AutoMLJobObjective", {{"MetricName", metric}}},
      {"AutoMLJobConfig",
       {{"CompletionCriteria", criteria},
        {"Mode", "HYPERPARAMETER_TUNING"},
        {"DataSplitConfig", {{"ValidationFraction", s.config.validation_fraction},
                             {"CrossValidationFolds", s.config.cv_folds}}}}},
      {"CreationTime", iso_time(s.creation_time)},
      {"LastModifiedTime", iso_time(unix_now())},
      {"AutoMLJobStatus", std::string(to_string(s.status))},
      {"AutoMLJobSecondaryStatus", s.secondary_status},
      {"AutoMLJobArtifacts",
       {{"DataExplorationNotebookLocation", (job_dir / kDataExplorationFile).string()},
        {"CandidateDefinitionNotebookLocation", (job_dir / kCandidatesFile).string()}}},
      {"ResolvedAttributes",
       {{"AutoMLJobObjective", {{"MetricName", metric}}},
        {"ProblemType", to_string(s.task)},
        {"CompletionCriteria", criteria}}},
      {"tabpilot",
       {{"seed", s.config.seed},
        {"threads", s.config.threads},
        {"problem_type_detected", s.task_detected},
        {"training_rows", s.train_rows},
        {"feature_columns", s.num_features},
        {"train_sha256", s.train_sha256},
        {"config", job_config_json(s.config)}}},
  };
  if (s.config.problem_type) j["ProblemType"] = to_string(*s.config.problem_type);
  if (s.ended) j["EndTime"] = iso_time(unix_now());
  if (!s.failure_reason.empty()) j["FailureReason"] = s.failure_reason;
  if (store) {
    auto trials = store->trials();
    nlohmann::json partial = nlohmann::json::array();
    size_t complete = 0, failed = 0, ensembles = 0;
    for (const auto& t : trials) {
      if (t.learner == "ensemble") {
        ++ensembles;
      } else if (t.state == TrialState::kComplete) {
        ++complete;
      }
      if (t.state == TrialState::kFail) {
        ++failed;
        if (partial.size() < 10)
          partial.push_back({{"PartialFailureMessage", t.name + ": " + t.error}});
      }
      if (s.best_trial_id && t.id == *s.best_trial_id) {
        auto best = candidate_json(t, s.objective, job_dir);
        best["InferenceContainers"] = {{{"ModelDataUrl", (job_dir / kModelDir).string()}}};
        j["BestCandidate"] = best;
      }
    }
    if (!partial.empty()) j["PartialFailureReasons"] = partial;
    j["tabpilot"]["trials"] = {{"total", trials.size() - ensembles},
                               {"completed", complete},
                               {"failed", failed},
                               {"ensembles", ensembles}};
  }
  return j;
}

nlohmann::json describe_job(const std::string& job_dir) {
  return read_json(require_job_dir(job_dir) / kJobFile);
}

}  // namespace tabpilot
