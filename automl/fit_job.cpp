// run_fit: the whole AutoML job. Analysis and validation first (bad input leaves no job
// folder), then the job folder, candidates, concurrent tuning against the store, and the
// best pipeline with its artifacts. The job's time limit is hard: trials poll a stop token.
// Running the trials themselves is in fit_trials.cpp.
#include "tabpilot/automl/fit_job_internal.h"

#include <malloc.h>        // for malloc_trim
#include <sys/resource.h>  // for getrusage

namespace tabpilot::fit_detail {
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

}  // namespace

JobResult FitJob::run() {
  analyse();  // throws InputError before anything is written
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

void FitJob::analyse() {
  if (config_.target.empty()) throw InputError("--target is required");
  if (config_.max_candidates < 1) throw InputError("--max-candidates must be at least 1");
  config_.time_limit_s = given_config_.time_limit_s =
      checked_time_limit(config_.time_limit_s, "--time-limit");
  if (config_.trial_time_limit_s != 0)
    config_.trial_time_limit_s = given_config_.trial_time_limit_s =
        checked_time_limit(config_.trial_time_limit_s, "--trial-time-limit");
  if (config_.threads < 0) throw InputError("--threads must be 0 (every core) or more");
  if (config_.cv_folds == 1 || config_.cv_folds < -1 || config_.cv_folds > 20)
    throw InputError("--cv-folds must be auto, 0 (hold-out) or between 2 and 20");
  if (config_.device != "auto" && config_.device != "cpu" && config_.device != "gpu")
    throw InputError("--device must be auto, cpu or gpu, got '" + config_.device + "'");
  if (config_.device == "gpu" && cuda_devices().empty())
    throw InputError("--device gpu: no GPU is visible (" + describe_compute() + ")");
  make_sampler(config_.sampler);  // an unknown name is an InputError before anything is written
  for (const auto& l : config_.learners) learner_params(l);  // likewise an unknown learner
  // An unknown --ensemble-metric is an InputError before anything is written, too.
  ensemble_selection_metric(Task::kRegression, Metric::kMSE, config_.ensemble_metric);
  if (config_.slots_per_gpu < 1) throw InputError("--slots-per-gpu must be at least 1");
  if (!(config_.validation_fraction > 0 && config_.validation_fraction < 1))
    throw InputError("--validation-fraction must be between 0 and 1");
  name_ = config_.name.empty() ? default_job_name(config_.train_path) : config_.name;
  check_job_name(name_);
  prepare_output_dir(config_.output_dir);
  job_dir_ = fs::path(config_.output_dir) / name_;
  // A symbolic link, a file or somebody else's folder in the way is refused here, --force or
  // not; only a tabpilot job folder is resumed, refused or (--force) replaced.
  if (check_job_dir(job_dir_) && !config_.overwrite) {
    nlohmann::json job = read_json(job_dir_ / "job.json");
    if (!can_resume(job))
      throw InputError(job_dir_.string() + ": a job with this name exists already (status " +
                       job.value("AutoMLJobStatus", std::string("unknown")) +
                       "; choose another --name, or --force to replace it)");
    resuming_ = true;
  }

  CsvOptions options;
  options.never_id = {config_.target};
  options.type_overrides = config_.column_types;
  options.override_option = "--column-type";
  auto r0 = Clock::now();
  table_ = read_csv(config_.train_path, options);
  timings_["ingest_seconds"] = std::chrono::duration<double>(Clock::now() - r0).count();
  timings_["ingest_rows"] = table_.num_rows;
  timings_["ingest_bytes"] = fs::file_size(config_.train_path);
  train_sha256_ = sha256_file(config_.train_path);
  // The reader's scratch (spans for every field) is freed now; hand it back to the system
  // rather than let the allocator keep it for the rest of the job.
  ::malloc_trim(0);
  int ti = table_.find(config_.target);
  if (ti < 0)
    throw InputError(unknown_target_message(config_.train_path, config_.target, table_.names()));
  const Column& target = table_.columns[static_cast<size_t>(ti)];
  if (target.missing_count() == target.size())
    throw InputError(config_.train_path + ": target column '" + config_.target +
                     "' has no values (all " + std::to_string(target.size()) +
                     " rows are missing)");
  task_ = config_.problem_type ? *config_.problem_type : detect_task(target);
  task_detected_ = !config_.problem_type.has_value();
  encoded_ = encode_target(target, task_);
  if (encoded_.kept_rows.size() < kMinRows)
    throw InputError(config_.train_path + ": only " + std::to_string(encoded_.kept_rows.size()) +
                     " rows with a target value; at least " + std::to_string(kMinRows) +
                     " are needed");
  if (encoded_.dropped > 0) {
    table_ = table_.take(encoded_.kept_rows);
    log::warn("dropped " + std::to_string(encoded_.dropped) + " rows whose target '" +
              config_.target + "' is missing");
  }
  objective_ = config_.objective.empty() ? default_objective(task_)
                                         : metric_from_string(config_.objective, task_);
  for (const auto& c : table_.columns) {
    if (c.name == config_.target) continue;
    if (c.type == ColumnType::kIdLike) continue;
    features_.push_back(c.name);
    feature_types_.push_back(c.type);
  }
  if (features_.empty())
    throw InputError(config_.train_path + ": no usable feature columns besides the target '" +
                     config_.target + "'");
  profile_ = profile_table(table_);
  target_json_ = analyze_target(table_.at(config_.target), task_, profile_.warnings);
  if (encoded_.dropped > 0)
    profile_.warnings.push_back(
        {"dropped_missing_target", config_.target,
         std::to_string(encoded_.dropped) + " rows with a missing target were dropped"});
  if (task_detected_ && task_ == Task::kRegression &&
      looks_like_class_codes(table_.at(config_.target)))
    profile_.warnings.push_back(
        {"integer_target", config_.target,
         "target '" + config_.target +
             "' holds few distinct integer values; it is treated as a "
             "regression target (an ordered quantity): pass --problem-type multiclass if they are "
             "class codes"});
  if (table_.num_rows < 500)
    profile_.warnings.push_back(
        {"few_rows", "",
         "only " + std::to_string(table_.num_rows) +
             " rows: Autopilot asks for at least 500; scores will be noisy"});
}

void FitJob::create_folder() {
  if (config_.overwrite && is_job_folder(job_dir_)) remove_job_folder(job_dir_);
  create_output_folder(config_.output_dir, "--output");
  create_output_folder(job_dir_, "job folder");
  store_ = std::make_unique<Store>((job_dir_ / kStoreFile).string());
  status_ = "InProgress";
  secondary_ = "AnalyzingData";
  write_job_json();
}

void FitJob::write_analysis() {
  nlohmann::json j = profile_.to_json();
  j["source"] = config_.train_path;
  j["target"] = target_json_;
  j["target"]["name"] = config_.target;
  j["problem_type"] = {{"resolved", to_string(task_)}, {"detected", task_detected_}};
  std::string examples;
  for (size_t i = 0; i < std::min<size_t>(encoded_.labels.size(), 5); ++i)
    examples += (i ? ", " : "") + std::string("'") + encoded_.labels[i] + "'";
  j["problem_type"]["statement"] =
      "This is " + std::string(task_detected_ ? "identified as" : "set by the user to be") + " a " +
      std::string(to_string(task_)) + " problem." +
      (is_classification(task_)
           ? " Here are " + std::to_string(std::min<size_t>(encoded_.labels.size(), 5)) +
                 " examples of labels: [" + examples + "]"
           : "");
  j["dropped_target_rows"] = encoded_.dropped;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& w : profile_.warnings) {
    warnings.push_back({{"code", w.code}, {"column", w.column}, {"message", w.message}});
    if (config_.progress) log::warn(w.message);
  }
  j["warnings"] = warnings;
  j["features"] = features_;
  write_json_atomic(job_dir_ / kDataExplorationFile, j);
}

void FitJob::plan() {
  // Splits over the kept rows; stratified for classification.
  const std::vector<int> strat =
      is_classification(task_) ? encoded_.class_of_row : std::vector<int>{};
  const int folds = config_.cv_folds >= 0               ? config_.cv_folds
                    : table_.num_rows <= kAutoCvMaxRows ? 5
                                                        : 0;
  config_.cv_folds = folds;  // job.json shows what was used
  if (folds >= 2) {
    splits_ = kfold_split(table_.num_rows, folds, config_.seed, strat);
  } else {
    splits_ = {holdout_split(table_.num_rows, config_.validation_fraction, config_.seed, strat)};
  }
  // Every trial is validated on the same rows: all of them (out of fold) under CV, the hold-out
  // rows otherwise. Their predictions are what ensemble selection combines.
  valid_rows_.clear();
  valid_pos_.assign(table_.num_rows, -1);
  if (splits_.size() > 1) {
    for (size_t r = 0; r < table_.num_rows; ++r) valid_rows_.push_back(r);
  } else {
    valid_rows_ = splits_[0].valid;
  }
  for (size_t i = 0; i < valid_rows_.size(); ++i) valid_pos_[valid_rows_[i]] = static_cast<int64_t>(i);
  pool_limit_ = splits_[0].train.size() > kLargeRows ? 1 : kPoolSize;
  CandidateOptions copt;
  copt.learners = config_.learners;
  candidates_ = generate_candidates(profile_, task_, splits_[0].train.size(), copt);
  if (candidates_.empty()) throw InputError("no candidate definitions (check --learners)");
  // Candidates that share a recipe share its fitted features.
  for (const auto& c : candidates_) {
    std::string key = c.recipe.to_json().dump();
    auto it = std::find(recipe_keys_.begin(), recipe_keys_.end(), key);
    recipe_of_.push_back(static_cast<size_t>(it - recipe_keys_.begin()));
    if (it == recipe_keys_.end()) recipe_keys_.push_back(key);
  }
  prepared_.resize(recipe_keys_.size() * splits_.size());
  spaces_.clear();
  candidate_names_.clear();
  for (const auto& c : candidates_) {
    spaces_.push_back(&c.space);
    candidate_names_.push_back(c.name);
  }
  // Large data: keep the features of one recipe at a time (a few hundred MB each); a
  // recipe's features are recomputed when a trial needs them again.
  keep_one_recipe_ = splits_[0].train.size() > kLargeRows;
}

void FitJob::tune() {
  plan();
  nlohmann::json defs = nlohmann::json::array();
  for (const auto& c : candidates_) defs.push_back(c.to_json());
  write_json_atomic(job_dir_ / kCandidatesFile, {{"job", name_},
                                                 {"problem_type", to_string(task_)},
                                                 {"objective", to_string(objective_)},
                                                 {"candidates", defs}});

  secondary_ = "ModelTuning";
  write_job_json();

  int threads = config_.threads > 0
                    ? config_.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Big data: one trial at a time with every core (memory stays bounded); small data:
  // one single-threaded trial per core, which keeps every core busy.
  threads_ = threads;
  int per_trial = splits_[0].train.size() > kLargeRows ? threads : 1;
  // Every visible GPU gets slots_per_gpu slots: learners with a CUDA path (the MLP) train
  // there, the others fall back to the CPU and say why.
  std::vector<Device> gpus;
  if (config_.device != "cpu")
    for (const auto& d : cuda_devices()) gpus.push_back(d.device);
  if (config_.device == "gpu" && gpus.empty())
    throw InputError("--device gpu: no GPU is visible (" + describe_compute() + ")");
  auto slots = plan_slots(threads, per_trial, gpus, config_.slots_per_gpu, config_.device);
  size_t gpu_slots = 0;
  for (const auto& sl : slots) gpu_slots += sl.device.is_cuda() ? 1 : 0;
  if (config_.progress)
    log::info(describe_compute() + "; " + std::to_string(slots.size() - gpu_slots) +
              " CPU trial slot(s) x " + std::to_string(per_trial) + " thread(s)" +
              (gpu_slots ? " + " + std::to_string(gpu_slots) + " GPU slot(s)" : ""));

  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  double reserve =
      std::clamp(config_.time_limit_s * 0.03, 0.5, 5.0) + std::max(0.0, config_.reserve_after_s);
  auto at = [&](double s) {
    return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  hard_stop_ = StopToken(at(config_.time_limit_s - reserve), &cancel_);
  // A refit after tuning needs time of its own: tuning stops 10% earlier.
  const bool refit = config_.refit && splits_.size() == 1 && splits_[0].train.size() <= kLargeRows;
  job_stop_ = StopToken(
      at(config_.time_limit_s - reserve - (refit ? 0.1 * config_.time_limit_s : 0.0)), &cancel_);
  (void)elapsed;
  double per_trial_limit = config_.trial_time_limit_s > 0
                               ? config_.trial_time_limit_s
                               : std::max(10.0, config_.time_limit_s / 3);
  sampler_ = make_sampler(config_.sampler);
  if (resuming_) {
    load_pool_from_disk();
    for (auto& t : store_->trials()) {
      if (t.learner == kEnsembleCandidate) continue;
      asked_ = std::max(asked_, trial_index_from_name(t.name) + 1);
      if (t.state == TrialState::kWaiting) requeued_.push_back(t);
      if (t.state != TrialState::kWaiting) ++finished_;
    }
    if (config_.progress)
      log::info("resuming: " + std::to_string(finished_) + " trial(s) kept, " +
                std::to_string(requeued_.size()) + " to run again, " +
                std::to_string(static_cast<int>(prior_elapsed_)) + " s already spent");
  }
  progress_ =
      std::make_unique<Progress>(config_.progress, config_.max_candidates, config_.time_limit_s);
  run_trials(
      slots, job_stop_, per_trial_limit, [this] { return ask(); },
      [this](const TrialTicket& t, const Slot& s, const StopToken& stop) { run_trial(t, s, stop); },
      [this](const TrialTicket& t, const std::string& msg) {
        fail_trial(t.trial_id, "internal error: " + msg);
      });
  progress_->stop();
  time_limit_reached_ = job_stop_.timed_out();
}

void FitJob::refit_best() {
  const CandidateDefinition& cand = candidates_[best_cand_];
  const double left = hard_stop_.seconds_left();
  const double need = best_fit_seconds_ * 1.5 + 0.5;
  if (left < need) {
    refit_info_ = {{"done", false},
                   {"reason", "not enough time left (" + nlohmann::json(left).dump() +
                                  " s for an estimated " + nlohmann::json(need).dump() + " s)"}};
    return;
  }
  Params params = best_params_;
  const ParamTable& table = learner_params(cand.learner);
  auto clamp_param = [&](const std::string& name, double v) {
    for (const auto& spec : table)
      if (spec.name == name) v = std::clamp(v, spec.low, spec.high);
    params[name] = static_cast<int64_t>(std::llround(v));
  };
  if (cand.learner == "xgboost" && best_fit_info_.contains("best_iteration"))
    clamp_param("num_round", (best_fit_info_["best_iteration"].get<double>() + 1) * 1.1);
  if (cand.learner == "mlp" && best_fit_info_.contains("best_epoch"))
    clamp_param("max_epochs", std::max(1.0, best_fit_info_["best_epoch"].get<double>()));
  {
    // The tuning features are no longer needed: free them before building the full ones.
    std::lock_guard<std::mutex> lock(prepared_mutex_);
    for (auto& p : prepared_) p.reset();
  }
  try {
    auto t0 = Clock::now();
    std::vector<size_t> all(table_.num_rows);
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    PipelineMember m;
    m.transform.fit(table_, features_, all, cand.recipe);
    Matrix x = m.transform.transform(table_);
    m.learner = make_learner(cand.learner);
    m.learner_name = cand.learner;
    m.params = params;
    FitData data{x.view(), &encoded_.y, MatrixView{}, nullptr, task_, num_classes()};
    FitContext ctx;
    ctx.threads = threads_;
    ctx.seed = best_seed_;
    ctx.stop = hard_stop_;
    m.learner->fit(data, params, ctx);
    if (hard_stop_.should_stop()) {
      refit_info_ = {{"done", false},
                     {"reason", "cut by the time limit; the trial's model is kept"}};
      return;
    }
    std::vector<float> pred;
    m.learner->predict(x.rows_view(0, std::min<size_t>(x.rows(), 10)), pred);
    for (float v : pred)
      if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions");
    best_->members.clear();
    best_->members.push_back(std::move(m));
    refit_info_ = {{"done", true},
                   {"rows", table_.num_rows},
                   {"params", params},
                   {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
  } catch (const std::exception& e) {
    refit_info_ = {{"done", false}, {"reason", std::string("refit failed: ") + e.what()}};
  }
}

JobResult FitJob::finish() {
  if (!best_) {
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
    std::vector<float> pred = ensembled ? ensemble_pred_ : pool_.front().oof;
    if (config_.tune_threshold) choose_threshold(pred);
    write_validation_predictions(pred);
  }
  if (ensembled) {
    refit_info_ = {{"done", false}, {"reason", "the model is an ensemble of trial models"}};
  } else if (config_.refit && splits_.size() == 1) {
    if (splits_[0].train.size() > kLargeRows) {
      // On large data 80% of the rows already train well, and a second full-size feature
      // matrix would double the job's peak memory.
      refit_info_ = {{"done", false}, {"reason", "large data: the trial's model is kept"}};
    } else {
      refit_best();
    }
  }
  fs::path model_tmp = job_dir_ / "model.tmp";
  fs::remove_all(model_tmp);
  fs::create_directories(model_tmp);
  best_->save(model_tmp);
  fs::remove_all(job_dir_ / kModelDir);
  fs::rename(model_tmp, job_dir_ / kModelDir);
  write_file_atomic(job_dir_ / kTrialsCsv, format_trials(list_trials(job_dir_.string()), "csv"));
  status_ = stopped_ ? "Stopped" : "Completed";
  secondary_ = stopped_                           ? "Stopped"
               : time_limit_reached_              ? "MaxAutoMLJobRuntimeReached"
               : asked_ >= config_.max_candidates ? "MaxCandidatesReached"
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
  status_ = "Failed";
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
  s.task = task_;
  s.task_detected = task_detected_;
  s.objective = objective_;
  s.status = status_;
  s.secondary_status = secondary_;
  s.failure_reason = failure_reason_;
  s.creation_time = creation_time_;
  s.ended = status_ != "InProgress";
  s.best_trial_id = best_ ? std::optional<int64_t>(best_id_) : std::nullopt;
  s.num_features = features_.size();
  s.train_rows = table_.num_rows;
  s.train_sha256 = train_sha256_;
  s.config = given_config_;
  s.config.cv_folds = config_.cv_folds;
  nlohmann::json j = job_description(s, store_.get(), job_dir_);
  nlohmann::json t = timings_;
  if (t.contains("ingest_seconds") && t["ingest_seconds"].get<double>() > 0)
    t["ingest_rows_per_s"] = t["ingest_rows"].get<double>() / t["ingest_seconds"].get<double>();
  if (t.contains("transform_seconds") && t["transform_seconds"].get<double>() > 0)
    t["transform_rows_per_s"] =
        t["transform_rows"].get<double>() / t["transform_seconds"].get<double>();
  // The process's peak resident memory so far (what tuning needed; the reports come after).
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) == 0) t["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
  j["tabpilot"]["timings"] = t;
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
