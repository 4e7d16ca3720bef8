#include "tabpilot/automl/job_plan.h"

#include <malloc.h>  // for malloc_trim

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/automl/ensemble.h"
#include "tabpilot/trainer/learner.h"
#include "tabpilot/tuner/sampler.h"

namespace tabpilot {
namespace fs = std::filesystem;
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string unknown_target_message(const std::string& path, const std::string& target,
                                   const std::vector<std::string>& names) {
  std::string list, best;
  size_t best_d = SIZE_MAX;
  for (const auto& n : names) {
    list += (list.empty() ? "" : ", ") + n;
    size_t d = edit_distance(target, n);
    if (d < best_d) best_d = d, best = n;
  }
  if (list.size() > 300) list = list.substr(0, 300) + ", ...";
  std::string msg = path + ": no column named '" + target + "'";
  if (best_d <= std::max<size_t>(2, target.size() / 3)) msg += " (did you mean '" + best + "'?)";
  return msg + "; columns: " + list;
}

// The data part: target, task, objective, features, profile and warnings.
void analyse(JobPlan& p, Table table) {
  const JobConfig& config = p.config;
  const int ti = table.find(config.target);
  if (ti < 0)
    throw InputError(unknown_target_message(config.train_path, config.target, table.names()));
  const Column& target = table.columns[static_cast<size_t>(ti)];
  if (target.missing_count() == target.size())
    throw InputError(config.train_path + ": target column '" + config.target +
                     "' has no values (all " + std::to_string(target.size()) +
                     " rows are missing)");
  p.task = config.problem_type ? *config.problem_type : detect_task(target);
  p.task_detected = !config.problem_type.has_value();
  p.target = encode_target(target, p.task);
  if (p.target.kept_rows.size() < kMinRows)
    throw InputError(config.train_path + ": only " + std::to_string(p.target.kept_rows.size()) +
                     " rows with a target value; at least " + std::to_string(kMinRows) +
                     " are needed");
  if (p.target.dropped > 0) table = table.take(p.target.kept_rows);
  p.objective = config.objective.empty() ? default_objective(p.task)
                                         : metric_from_string(config.objective, p.task);
  for (const auto& c : table.columns) {
    if (c.name == config.target || c.type == ColumnType::kIdLike) continue;
    p.features.push_back(c.name);
    p.feature_types.push_back(c.type);
  }
  if (p.features.empty())
    throw InputError(config.train_path + ": no usable feature columns besides the target '" +
                     config.target + "'");
  p.profile = profile_table(table);
  p.target_json = analyze_target(table.at(config.target), p.task, p.profile.warnings);
  if (p.target.dropped > 0)
    p.profile.warnings.push_back(
        {"dropped_missing_target", config.target,
         std::to_string(p.target.dropped) + " rows with a missing target were dropped"});
  if (p.task_detected && p.task == Task::kRegression &&
      looks_like_class_codes(table.at(config.target)))
    p.profile.warnings.push_back(
        {"integer_target", config.target,
         "target '" + config.target +
             "' holds few distinct integer values; it is treated as a "
             "regression target (an ordered quantity): pass --problem-type multiclass if they are "
             "class codes"});
  if (table.num_rows < 500)
    p.profile.warnings.push_back(
        {"few_rows", "",
         "only " + std::to_string(table.num_rows) +
             " rows: Autopilot asks for at least 500; scores will be noisy"});
  p.table = std::make_shared<const Table>(std::move(table));
}

// Splits over the kept rows (stratified for classification), the validation rows, and the
// candidates with the recipes they share.
void split_and_generate(JobPlan& p) {
  const size_t rows = p.table->num_rows;
  const std::vector<int> strat =
      is_classification(p.task) ? p.target.class_of_row : std::vector<int>{};
  const int folds = p.config.cv_folds >= 0 ? p.config.cv_folds : rows <= kAutoCvMaxRows ? 5 : 0;
  p.config.cv_folds = folds;  // job.json shows what was used
  if (folds >= 2) {
    p.splits = kfold_split(rows, folds, p.config.seed, strat);
  } else {
    p.splits = {holdout_split(rows, p.config.validation_fraction, p.config.seed, strat)};
  }
  // Every trial is validated on the same rows: all of them (out of fold) under CV, the hold-out
  // rows otherwise. Their predictions are what ensemble selection combines.
  p.valid_rows.clear();
  p.valid_pos.assign(rows, -1);
  if (p.splits.size() > 1) {
    for (size_t r = 0; r < rows; ++r) p.valid_rows.push_back(r);
  } else {
    p.valid_rows = p.splits[0].valid;
  }
  for (size_t i = 0; i < p.valid_rows.size(); ++i)
    p.valid_pos[p.valid_rows[i]] = static_cast<int64_t>(i);
  p.large = p.splits[0].train.size() > kLargeRows;
  CandidateOptions copt;
  copt.learners = p.config.learners;
  p.candidates = generate_candidates(p.profile, p.task, p.splits[0].train.size(), copt);
  if (p.candidates.empty()) throw InputError("no candidate definitions (check --learners)");
  std::vector<std::string> keys;
  for (const auto& c : p.candidates) {
    const std::string key = c.recipe.to_json().dump();
    auto it = std::find(keys.begin(), keys.end(), key);
    p.recipe_of.push_back(static_cast<size_t>(it - keys.begin()));
    if (it == keys.end()) keys.push_back(key);
  }
  p.recipe_count = keys.size();
}

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<float> JobPlan::valid_y() const {
  std::vector<float> y;
  y.reserve(valid_rows.size());
  for (size_t r : valid_rows) y.push_back(target.y[r]);
  return y;
}

ValidationPredictions JobPlan::validation_predictions(std::vector<float> pred) const {
  ValidationPredictions v;
  v.task = task;
  v.labels = target.labels;
  v.rows.reserve(valid_rows.size());
  for (size_t r : valid_rows) {
    v.rows.push_back(target.kept_rows.empty() ? r : target.kept_rows[r]);
    v.y_true.push_back(target.y[r]);
  }
  v.pred = std::move(pred);
  return v;
}

nlohmann::json JobPlan::metrics_of(const std::vector<float>& y,
                                   const std::vector<float>& pred) const {
  nlohmann::json m = nlohmann::json::object();
  for (Metric metric : reported_metrics(task))
    m[std::string(to_string(metric))] = compute_metric(metric, task, y, pred, num_classes());
  return m;
}

int JobPlan::candidate_index(const std::string& name) const {
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].name == name) return static_cast<int>(i);
  return -1;
}

uint64_t JobPlan::trial_seed(int index) const {
  return mix_seed(config.seed, static_cast<uint64_t>(std::max(index, 0)));
}

std::string JobPlan::digest() const {
  nlohmann::json j;
  j["train_sha256"] = train_sha256;
  j["target"] = config.target;
  j["task"] = std::string(to_string(task));
  j["objective"] = std::string(to_string(objective));
  j["labels"] = target.labels;
  j["kept_rows"] = target.kept_rows;
  j["features"] = features;
  std::vector<std::string> types;
  for (ColumnType t : feature_types) types.emplace_back(to_string(t));
  j["feature_types"] = types;
  j["seed"] = config.seed;
  nlohmann::json splits_json = nlohmann::json::array();
  for (const auto& s : splits) splits_json.push_back({{"train", s.train}, {"valid", s.valid}});
  j["splits"] = splits_json;
  j["valid_rows"] = valid_rows;
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : candidates) cands.push_back(c.to_json());
  j["candidates"] = cands;
  const std::string bytes = j.dump();
  return sha256_hex(bytes);
}

void check_job_config(const JobConfig& config) {
  if (config.target.empty()) throw InputError("--target is required");
  if (config.max_candidates < 1) throw InputError("--max-candidates must be at least 1");
  checked_time_limit(config.time_limit_s, "--time-limit");
  if (config.trial_time_limit_s != 0)
    checked_time_limit(config.trial_time_limit_s, "--trial-time-limit");
  if (config.threads < 0) throw InputError("--threads must be 0 (every core) or more");
  if (config.cv_folds == 1 || config.cv_folds < -1 || config.cv_folds > 20)
    throw InputError("--cv-folds must be auto, 0 (hold-out) or between 2 and 20");
  if (config.device == DeviceMode::kGpu && cuda_devices().empty())
    throw InputError("--device gpu: no GPU is visible (" + describe_compute() + ")");
  make_sampler(config.sampler);  // an unknown name is an InputError before anything is written
  // An unknown --ensemble-metric is an InputError before anything is written, too.
  ensemble_selection_metric(Task::kRegression, Metric::kMSE, config.ensemble_metric);
  for (const auto& l : config.learners) learner_info(l);  // likewise an unknown learner
  if (config.slots_per_gpu < 1) throw InputError("--slots-per-gpu must be at least 1");
  if (!(config.validation_fraction > 0 && config.validation_fraction < 1))
    throw InputError("--validation-fraction must be between 0 and 1");
}

JobPlan build_plan(const JobConfig& config, IngestTimings* ingest) {
  check_job_config(config);
  JobPlan p;
  p.config = config;
  p.config.time_limit_s = checked_time_limit(config.time_limit_s, "--time-limit");
  if (config.trial_time_limit_s != 0)
    p.config.trial_time_limit_s = checked_time_limit(config.trial_time_limit_s, "--trial-time-limit");
  CsvOptions options;
  options.never_id = {config.target};
  options.type_overrides = config.column_types;
  options.override_option = "--column-type";
  const auto t0 = std::chrono::steady_clock::now();
  Table table = read_csv(config.train_path, options);
  if (ingest) {
    ingest->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ingest->rows = table.num_rows;
    ingest->bytes = fs::file_size(config.train_path);
  }
  p.train_sha256 = sha256_file(config.train_path);
  // The reader's scratch (spans for every field) is freed now; hand it back to the system
  // rather than let the allocator keep it for the rest of the job.
  ::malloc_trim(0);
  analyse(p, std::move(table));
  split_and_generate(p);
  return p;
}

JobPlan refit_plan(const JobPlan& plan) {
  JobPlan p = plan;
  Split all;
  all.train.resize(plan.table->num_rows);
  for (size_t i = 0; i < all.train.size(); ++i) all.train[i] = i;
  p.splits = {all};
  p.valid_rows.clear();
  p.valid_pos.assign(plan.table->num_rows, -1);
  return p;
}

}  // namespace tabpilot
