// run_fit: the whole AutoML job. The configuration is checked and the plan built (analysis,
// splits, candidates) before anything is written, so bad input leaves no job folder; then
// the folder, concurrent tuning against the store, and the best pipeline with its artifacts.
// The job's time limit is hard: trials poll a stop token.
#include <sys/resource.h>  // for getrusage

#include "tabpilot/automl/fit_job_internal.h"
#include "tabpilot/automl/lease.h"
#include "tabpilot/automl/pool_ensemble.h"
#include "tabpilot/automl/refit.h"
#include "tabpilot/automl/threshold.h"
#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot::fit_detail {

JobResult FitJob::run() {
  check_job_config(config_);
  config_.time_limit_s = given_config_.time_limit_s =
      checked_time_limit(config_.time_limit_s, "--time-limit");
  if (config_.trial_time_limit_s != 0)
    config_.trial_time_limit_s = given_config_.trial_time_limit_s =
        checked_time_limit(config_.trial_time_limit_s, "--trial-time-limit");
  locate();
  plan_ = build_plan(config_, &ingest_);  // throws InputError before anything is written
  config_.cv_folds = plan_.config.cv_folds;
  if (resuming_) {
    open_resumed_store();
  } else {
    create_folder();
  }
  start_watcher();
  try {
    write_analysis();
    if (config_.on_analysis_written) {
      try {
        config_.on_analysis_written(job_dir_.string());
      } catch (const std::exception& e) {
        log::warn(std::string("data exploration report not written: ") + e.what());
      }
    }
    tune();
    JobResult r = finish();
    stop_watcher();
    return r;
  } catch (const std::exception& e) {
    stop_watcher();
    return fail(e.what());
  }
}

void FitJob::locate() {
  name_ = config_.name.empty() ? default_job_name(config_.train_path) : config_.name;
  check_job_name(name_);
  prepare_output_dir(config_.output_dir);
  job_dir_ = fs::path(config_.output_dir) / name_;
  // A symbolic link, a file or somebody else's folder in the way is refused here, --force or
  // not; only a tabpilot job folder is resumed, refused or (--force) replaced.
  if (check_job_dir(job_dir_) && !config_.overwrite) {
    nlohmann::json job = read_json(job_dir_ / kJobFile);
    if (!can_resume(job))
      throw InputError(job_dir_.string() + ": a job with this name exists already (status " +
                       job.value("AutoMLJobStatus", std::string("unknown")) +
                       "; choose another --name, or --force to replace it)");
    resuming_ = true;
  }
}

void FitJob::create_folder() {
  if (config_.overwrite && is_job_folder(job_dir_)) remove_job_folder(job_dir_);
  create_output_folder(config_.output_dir, "--output");
  create_output_folder(job_dir_, "job folder");
  store_ = open_store(config_.store, job_dir_, name_);
  // A shared store outlives job folders: a job of this name already in it is refused (or,
  // with --force, emptied) as a job folder of this name would be.
  if (!config_.store.empty() && !store_->trials().empty()) {
    if (!config_.overwrite)
      throw InputError(store_->location() + ": the store holds a job named " + name_ +
                       " already (choose another --name, or --force to replace it)");
    store_->clear();
  }
  status_ = JobStatus::kInProgress;
  secondary_ = "AnalyzingData";
  write_job_json();
}

void FitJob::write_analysis() {
  const JobPlan& p = plan_;
  nlohmann::json j = p.profile.to_json();
  j["source"] = config_.train_path;
  j["target"] = p.target_json;
  j["target"]["name"] = config_.target;
  j["problem_type"] = {{"resolved", to_string(p.task)}, {"detected", p.task_detected}};
  std::string examples;
  for (size_t i = 0; i < std::min<size_t>(p.target.labels.size(), 5); ++i)
    examples += (i ? ", " : "") + std::string("'") + p.target.labels[i] + "'";
  j["problem_type"]["statement"] =
      "This is " + std::string(p.task_detected ? "identified as" : "set by the user to be") +
      " a " + std::string(to_string(p.task)) + " problem." +
      (is_classification(p.task)
           ? " Here are " + std::to_string(std::min<size_t>(p.target.labels.size(), 5)) +
                 " examples of labels: [" + examples + "]"
           : "");
  j["dropped_target_rows"] = p.target.dropped;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& w : p.profile.warnings) {
    warnings.push_back({{"code", w.code}, {"column", w.column}, {"message", w.message}});
    if (config_.progress) log::warn(w.message);
  }
  j["warnings"] = warnings;
  j["features"] = p.features;
  write_json_atomic(job_dir_ / kDataExplorationFile, j);
}

void FitJob::tune() {
  nlohmann::json defs = nlohmann::json::array();
  for (const auto& c : plan_.candidates) defs.push_back(c.to_json());
  write_json_atomic(job_dir_ / kCandidatesFile, {{"job", name_},
                                                 {"problem_type", to_string(plan_.task)},
                                                 {"objective", to_string(plan_.objective)},
                                                 {"candidates", defs}});
  features_ = std::make_unique<FeatureCache>(plan_, plan_.large);
  timings_["ingest_seconds"] = ingest_.seconds;
  timings_["ingest_rows"] = ingest_.rows;
  timings_["ingest_bytes"] = ingest_.bytes;
  secondary_ = "ModelTuning";
  write_job_json();

  const int threads = config_.threads > 0
                          ? config_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Big data: one trial at a time with every core (memory stays bounded); small data:
  // one single-threaded trial per core, which keeps every core busy.
  threads_ = threads;
  const int per_trial = plan_.large ? threads : 1;
  // Every visible GPU gets slots_per_gpu slots: learners with a CUDA path train there, the
  // others fall back to the CPU and say why.
  std::vector<Device> gpus;
  if (config_.device != DeviceMode::kCpu)
    for (const auto& d : cuda_devices()) gpus.push_back(d.device);
  const auto slots = plan_slots(threads, per_trial, gpus, config_.slots_per_gpu, config_.device);
  slots_ = slots;
  size_t gpu_slots = 0;
  for (const auto& sl : slots) gpu_slots += sl.device.is_cuda() ? 1 : 0;
  if (config_.progress) {
    log::info(describe_compute() + "; " + std::to_string(slots.size() - gpu_slots) +
              " CPU trial slot(s) x " + std::to_string(per_trial) + " thread(s)" +
              (gpu_slots ? " + " + std::to_string(gpu_slots) + " GPU slot(s)" : ""));
    std::vector<std::string> learners;
    for (const auto& c : plan_.candidates) learners.push_back(c.learner);
    for (const auto& r : learner_runtimes(learners)) log::info("library: " + r);
  }

  const double reserve =
      std::clamp(config_.time_limit_s * 0.03, 0.5, 5.0) + std::max(0.0, config_.reserve_after_s);
  auto at = [&](double s) {
    return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  hard_stop_ = StopToken(at(config_.time_limit_s - reserve), &cancel_);
  // A refit after tuning needs time of its own: tuning stops 10% earlier.
  const bool refit = config_.refit && plan_.splits.size() == 1 && !plan_.large;
  job_stop_ = StopToken(
      at(config_.time_limit_s - reserve - (refit ? 0.1 * config_.time_limit_s : 0.0)), &cancel_);
  const double per_trial_limit = config_.trial_time_limit_s > 0
                                     ? config_.trial_time_limit_s
                                     : std::max(10.0, config_.time_limit_s / 3);
  if (resuming_) requeue_abandoned();
  progress_ =
      std::make_unique<Progress>(config_.progress, config_.max_candidates, config_.time_limit_s);
  RunnerOptions options;
  options.owner = this_worker().str();
  options.progress = progress_.get();
  options.log_failures = config_.progress;
  runner_ = std::make_unique<TrialRunner>(plan_, *store_, *features_, options);
  tuning_ = true;
  runner_->run(slots, job_stop_, per_trial_limit);
  tuning_ = false;
  progress_->stop();
  time_limit_reached_ = job_stop_.timed_out();
}

bool FitJob::build_ensemble() {
  if (config_.ensemble_rounds < 2 || pool_.entries().size() < 2) return false;
  const std::vector<float> y = plan_.valid_y();
  PoolEnsemble e = ensemble_of_pool(pool_.entries(), y, plan_.task, plan_.num_classes(),
                                    plan_.objective, config_.ensemble_metric,
                                    config_.ensemble_rounds);
  ensemble_info_ = e.info;
  if (!e.used) return false;
  nlohmann::json params = {{"members", e.info["members"]}, {"rounds", e.info["rounds"]}};
  const NewTrial t = store_->create_trial(
      TrialDraft{kEnsembleCandidate, kEnsembleCandidate, kEnsembleCandidate, params, 1});
  store_->start_trial(t.id, this_worker().str());
  // Its objective on the pooled rows, in the job's metric (what the leaderboard ranks by).
  nlohmann::json metrics = {{"validation", plan_.metrics_of(y, e.pred)},
                            {"train", nlohmann::json::object()}};
  store_->finish_trial(t.id, TrialState::kComplete, metrics, e.objective, "",
                       {{"ensemble", ensemble_info_}});
  best_ = make_pipeline(plan_, kEnsembleCandidate, std::move(e.members));
  best_id_ = t.id;
  best_name_ = t.name;
  best_objective_ = e.objective;
  ensemble_pred_ = std::move(e.pred);
  return true;
}

void FitJob::refit_best() {
  const PoolEntry& b = pool_.best();
  const double left = hard_stop_.seconds_left();
  const double need = b.fit_seconds * 1.5 + 0.5;
  if (left < need) {
    refit_info_ = {{"done", false},
                   {"reason", "not enough time left (" + nlohmann::json(left).dump() +
                                  " s for an estimated " + nlohmann::json(need).dump() + " s)"}};
    return;
  }
  features_->clear();  // the tuning features are no longer needed: free them first
  RefitResult r =
      refit_trial(plan_, b.cand, b.params, b.fit_info, b.seed, threads_, hard_stop_);
  refit_info_ = r.info;
  if (!r.done) return;
  best_->members = std::move(r.members);
}

JobResult FitJob::finish() {
  load_pool();
  if (pool_.empty()) {
    std::string reason = "no trial completed";
    for (const auto& t : store_->trials())
      if (t.state == TrialState::kFail) {
        reason += " (first failure: " + t.name + ": " + t.error + ")";
        break;
      }
    if (time_limit_reached_)
      reason += " within the time limit of " + nlohmann::json(config_.time_limit_s).dump() + " s";
    return fail(reason);
  }
  PoolEntry& top = pool_.best();
  best_ = top.model();
  best_id_ = top.id;
  best_name_ = top.name;
  best_objective_ = top.objective;
  bool ensembled = false;
  // Selection over the pool's predictions takes milliseconds on small data and the pool is
  // one trial on large data, so it runs even at the deadline; only a stop request skips it.
  if (!stopped_) {
    try {
      ensembled = build_ensemble();
    } catch (const std::exception& e) {
      ensemble_info_ = {{"used", false}, {"reason", std::string("failed: ") + e.what()}};
    }
  }
  {
    const std::vector<float>& pred = ensembled ? ensemble_pred_ : top.oof;
    if (config_.tune_threshold)
      if (auto t = choose_threshold(plan_.task, plan_.objective, plan_.valid_y(), pred)) {
        best_->decision_threshold = t->value;
        threshold_info_ = t->to_json(plan_.objective);
      }
    ValidationPredictions v = plan_.validation_predictions(pred);
    v.decision_threshold = best_->decision_threshold;
    save_validation_predictions(job_dir_ / kValidationPredictionsFile, v);
  }
  if (ensembled) {
    refit_info_ = {{"done", false}, {"reason", "the model is an ensemble of trial models"}};
  } else if (config_.refit && plan_.splits.size() == 1) {
    if (plan_.large) {
      // On large data 80% of the rows already train well, and a second full-size feature
      // matrix would double the job's peak memory.
      refit_info_ = {{"done", false}, {"reason", "large data: the trial's model is kept"}};
    } else {
      refit_best();  // replaces the best trial's members (the pool is not used after this)
    }
  }
  fs::path model_tmp = job_dir_ / "model.tmp";
  fs::remove_all(model_tmp);
  fs::create_directories(model_tmp);
  best_->save(model_tmp);
  fs::remove_all(job_dir_ / kModelDir);
  fs::rename(model_tmp, job_dir_ / kModelDir);
  write_file_atomic(job_dir_ / kTrialsCsv, format_trials(list_trials(job_dir_.string()), "csv"));
  status_ = stopped_ ? JobStatus::kStopped : JobStatus::kCompleted;
  const int created = runner_ ? runner_->trials_created() : 0;
  secondary_ = stopped_                            ? "Stopped"
               : time_limit_reached_               ? "MaxAutoMLJobRuntimeReached"
               : created >= config_.max_candidates ? "MaxCandidatesReached"
                                                   : "Completed";
  write_job_json();
  JobResult r;
  r.job_dir = job_dir_.string();
  r.status = status_;
  r.best_candidate = best_name_;
  r.best_objective = best_objective_;
  return r;
}

JobResult FitJob::fail(const std::string& reason) {
  cancel_ = true;
  status_ = JobStatus::kFailed;
  secondary_ = "Failed";
  failure_reason_ = reason;
  try {
    write_job_json();
  } catch (const std::exception& e) {
    log::warn(std::string("could not write job.json: ") + e.what());
  }
  JobResult r;
  r.job_dir = job_dir_.string();
  r.status = status_;
  r.failure_reason = reason;
  return r;
}

void FitJob::write_job_json() {
  JobSummary s;
  s.name = name_;
  s.task = plan_.task;
  s.task_detected = plan_.task_detected;
  s.objective = plan_.objective;
  s.status = status_;
  s.secondary_status = secondary_;
  s.failure_reason = failure_reason_;
  s.creation_time = creation_time_;
  s.ended = status_ != JobStatus::kInProgress;
  s.best_trial_id = best_ ? std::optional<int64_t>(best_id_) : std::nullopt;
  s.num_features = plan_.features.size();
  s.train_rows = plan_.table ? plan_.table->num_rows : 0;
  s.train_sha256 = plan_.train_sha256;
  s.config = given_config_;
  s.config.cv_folds = config_.cv_folds;
  nlohmann::json j = job_description(s, store_.get(), job_dir_);
  nlohmann::json t = timings_, slots = nlohmann::json::array();
  // The slot plan: which slots are GPU slots, and how many trials each ran.
  const std::vector<int> per_slot = runner_ ? runner_->trials_per_slot() : std::vector<int>{};
  for (size_t i = 0; i < slots_.size(); ++i)
    slots.push_back({{"slot", slots_[i].index},
                     {"device", slots_[i].device.str()},
                     {"threads", slots_[i].threads},
                     {"trials", i < per_slot.size() ? per_slot[i] : 0}});
  if (features_) {
    t["transform_seconds"] = features_->transform_seconds();
    t["transform_rows"] = features_->transform_rows();
  }
  if (t.contains("ingest_seconds") && t["ingest_seconds"].get<double>() > 0)
    t["ingest_rows_per_s"] = t["ingest_rows"].get<double>() / t["ingest_seconds"].get<double>();
  if (t.contains("transform_seconds") && t["transform_seconds"].get<double>() > 0)
    t["transform_rows_per_s"] =
        t["transform_rows"].get<double>() / t["transform_seconds"].get<double>();
  // The process's peak resident memory so far (what tuning needed; the reports come after).
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) == 0) t["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
  j["tabpilot"]["timings"] = t;
  if (!slots.empty()) j["tabpilot"]["slots"] = slots;
  // Counts every run of a resumed job (start_ is moved back by the time already spent).
  j["tabpilot"]["elapsed_seconds"] = std::chrono::duration<double>(Clock::now() - start_).count();
  if (!refit_info_.is_null()) j["tabpilot"]["refit"] = refit_info_;
  if (!ensemble_info_.is_null()) j["tabpilot"]["ensemble"] = ensemble_info_;
  if (!threshold_info_.is_null()) j["tabpilot"]["decision_threshold"] = threshold_info_;
  store_->put_job(j);
  write_json_atomic(job_dir_ / kJobFile, j);
}

}  // namespace tabpilot::fit_detail

namespace tabpilot {

double checked_time_limit(double seconds, const std::string& what) {
  if (std::isnan(seconds) || !(seconds > 0))
    throw InputError(what + " must be a positive number of seconds (inf: no limit)");
  return std::min(seconds, kNoTimeLimit);
}

JobResult run_fit(const JobConfig& config) { return fit_detail::FitJob(config).run(); }

}  // namespace tabpilot
