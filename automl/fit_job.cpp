// run_fit: the whole AutoML job. Analysis and validation first (bad input leaves no job
// folder), then the job folder, candidates, concurrent tuning against the store, and the
// best pipeline with its artifacts. The job's time limit is hard: trials poll a stop token.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tabpilot/automl/candidates.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/labels.h"
#include "tabpilot/automl/progress.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/data/profile.h"
#include "tabpilot/data/split.h"
#include "tabpilot/store/store.h"
#include "tabpilot/trainer/metrics.h"
#include "tabpilot/trainer/mlp_batch.h"
#include "tabpilot/trainer/pipeline.h"
#include "tabpilot/tuner/sampler.h"
#include "tabpilot/tuner/scheduler.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

constexpr size_t kMinRows = 20;
// Above this many training rows, memory rules: one trial at a time with every core, and the
// features of one recipe kept at a time.
constexpr size_t kLargeRows = 200000;

// Features of one (recipe, fold): fitted on the fold's training rows only.
struct Prepared {
  std::once_flag once;
  FeatureTransform transform;
  Matrix x_train, x_valid;
  std::vector<float> y_train, y_valid;
};

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

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

class FitJob {
 public:
  explicit FitJob(const JobConfig& c) : config_(c), start_(Clock::now()) {}

  JobResult run() {
    analyse();  // throws InputError before anything is written
    create_folder();
    try {
      write_analysis();
      tune();
      return finish();
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }

 private:
  // ---- 1. analysis -------------------------------------------------------------------
  void analyse() {
    if (config_.target.empty()) throw InputError("--target is required");
    if (config_.max_candidates < 1) throw InputError("--max-candidates must be at least 1");
    if (!(config_.time_limit_s > 0)) throw InputError("--time-limit must be positive");
    if (config_.cv_folds == 1 || config_.cv_folds < -1 || config_.cv_folds > 20)
      throw InputError("--cv-folds must be auto, 0 (hold-out) or between 2 and 20");
    if (config_.device != "auto" && config_.device != "cpu" && config_.device != "gpu")
      throw InputError("--device must be auto, cpu or gpu, got '" + config_.device + "'");
    if (config_.device == "gpu" && cuda_devices().empty())
      throw InputError("--device gpu: no GPU is visible (" + describe_compute() + ")");
    if (!(config_.validation_fraction > 0 && config_.validation_fraction < 1))
      throw InputError("--validation-fraction must be between 0 and 1");
    name_ = config_.name.empty() ? timestamped_name(fs::path(config_.train_path).stem().string())
                                 : config_.name;
    job_dir_ = fs::path(config_.output_dir) / name_;
    if (fs::exists(job_dir_ / "job.json") && !config_.overwrite)
      throw InputError(job_dir_.string() + ": a job with this name exists already (choose "
                       "another --name, or --force to replace it)");

    CsvOptions options;
    options.never_id = {config_.target};
    auto r0 = Clock::now();
    table_ = read_csv(config_.train_path, options);
    timings_["ingest_seconds"] = std::chrono::duration<double>(Clock::now() - r0).count();
    timings_["ingest_rows"] = table_.num_rows;
    timings_["ingest_bytes"] = fs::file_size(config_.train_path);
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
      profile_.warnings.push_back({"dropped_missing_target", config_.target,
                                   std::to_string(encoded_.dropped) +
                                       " rows with a missing target were dropped"});
    if (task_detected_ && task_ == Task::kRegression && looks_like_class_codes(table_.at(config_.target)))
      profile_.warnings.push_back(
          {"integer_target", config_.target,
           "target '" + config_.target + "' holds few distinct integer values; it is treated as a "
           "regression target (an ordered quantity): pass --problem-type multiclass if they are "
           "class codes"});
    if (table_.num_rows < 500)
      profile_.warnings.push_back({"few_rows", "", "only " + std::to_string(table_.num_rows) +
                                   " rows: Autopilot asks for at least 500; scores will be noisy"});
  }

  // ---- 2. the job folder -------------------------------------------------------------
  void create_folder() {
    if (config_.overwrite) fs::remove_all(job_dir_);
    fs::create_directories(job_dir_);
    store_ = std::make_unique<Store>((job_dir_ / kStoreFile).string());
    status_ = "InProgress";
    secondary_ = "AnalyzingData";
    write_job_json();
  }

  void write_analysis() {
    nlohmann::json j = profile_.to_json();
    j["source"] = config_.train_path;
    j["target"] = target_json_;
    j["target"]["name"] = config_.target;
    j["problem_type"] = {{"resolved", to_string(task_)}, {"detected", task_detected_}};
    std::string examples;
    for (size_t i = 0; i < std::min<size_t>(encoded_.labels.size(), 5); ++i)
      examples += (i ? ", " : "") + std::string("'") + encoded_.labels[i] + "'";
    j["problem_type"]["statement"] =
        "This is " + std::string(task_detected_ ? "identified as" : "set by the user to be") +
        " a " + std::string(to_string(task_)) + " problem." +
        (is_classification(task_) ? " Here are " + std::to_string(std::min<size_t>(encoded_.labels.size(), 5)) +
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

  // ---- 3. candidates and tuning ------------------------------------------------------
  void tune() {
    // Splits over the kept rows; stratified for classification.
    const std::vector<int> strat = is_classification(task_) ? encoded_.class_of_row : std::vector<int>{};
    const int folds = config_.cv_folds >= 0 ? config_.cv_folds
                      : table_.num_rows <= kAutoCvMaxRows ? 5 : 0;
    config_.cv_folds = folds;  // job.json shows what was used
    if (folds >= 2) {
      splits_ = kfold_split(table_.num_rows, folds, config_.seed, strat);
    } else {
      splits_ = {holdout_split(table_.num_rows, config_.validation_fraction, config_.seed, strat)};
    }
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
    // Large data: keep the features of one recipe at a time (a few hundred MB each); a
    // recipe's features are recomputed when a trial needs them again.
    keep_one_recipe_ = splits_[0].train.size() > kLargeRows;
    nlohmann::json defs = nlohmann::json::array();
    for (const auto& c : candidates_) defs.push_back(c.to_json());
    write_json_atomic(job_dir_ / kCandidatesFile,
                      {{"job", name_}, {"problem_type", to_string(task_)},
                       {"objective", to_string(objective_)}, {"candidates", defs}});

    secondary_ = "ModelTuning";
    write_job_json();

    int threads = config_.threads > 0 ? config_.threads
                                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // Big data: one trial at a time with every core (memory stays bounded); small data:
    // one single-threaded trial per core, which keeps every core busy.
    threads_ = threads;
    int per_trial = splits_[0].train.size() > kLargeRows ? threads : 1;
    auto slots = cpu_slots(threads, per_trial);
    // One more slot per visible GPU: learners with a CUDA path (the MLP) train there, the
    // others fall back to the CPU and say why.
    size_t gpu_slots = 0;
    if (config_.device != "cpu") {
      if (config_.device == "gpu") slots.clear();
      for (const auto& d : cuda_devices()) {
        slots.push_back(Slot{static_cast<int>(slots.size()), d.device, per_trial});
        ++gpu_slots;
      }
      if (slots.empty())
        throw InputError("--device gpu: no GPU is visible (" + describe_compute() + ")");
    }
    if (config_.progress)
      log::info(describe_compute() + "; " + std::to_string(slots.size() - gpu_slots) +
                " CPU trial slot(s) x " + std::to_string(per_trial) + " thread(s)" +
                (gpu_slots ? " + " + std::to_string(gpu_slots) + " GPU slot(s)" : ""));

    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    double reserve = std::clamp(config_.time_limit_s * 0.03, 0.5, 5.0);
    auto at = [&](double s) {
      return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    hard_stop_ = StopToken(at(config_.time_limit_s - reserve), &cancel_);
    // A refit after tuning needs time of its own: tuning stops 10% earlier.
    const bool refit = config_.refit && splits_.size() == 1 && splits_[0].train.size() <= kLargeRows;
    job_stop_ = StopToken(at(config_.time_limit_s - reserve - (refit ? 0.1 * config_.time_limit_s : 0.0)),
                          &cancel_);
    (void)elapsed;
    double per_trial_limit = config_.trial_time_limit_s > 0 ? config_.trial_time_limit_s
                                                            : std::max(10.0, config_.time_limit_s / 3);
    sampler_ = make_sampler("random");
    progress_ = std::make_unique<Progress>(config_.progress, config_.max_candidates,
                                           config_.time_limit_s);
    run_trials(
        slots, job_stop_, per_trial_limit, [this] { return ask(); },
        [this](const TrialTicket& t, const Slot& s, const StopToken& stop) { run_trial(t, s, stop); },
        [this](const TrialTicket& t, const std::string& msg) {
          fail_trial(t.trial_id, "internal error: " + msg);
        });
    progress_->stop();
    time_limit_reached_ = job_stop_.timed_out();
  }

  std::optional<TrialTicket> ask() {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    if (asked_ >= config_.max_candidates || job_stop_.should_stop()) return std::nullopt;
    const int index = asked_++;
    const uint64_t seed = mix_seed(config_.seed, static_cast<uint64_t>(index));
    size_t cand;
    Params params;
    if (next_default_ < candidates_.size()) {
      // Known-good defaults first, one per candidate: cheap and usually strong.
      cand = next_default_++;
      params = default_params(candidates_[cand].space.params);
      for (const auto& [k, v] : candidates_[cand].space.fixed.items()) params[k] = v;
    } else {
      cand = static_cast<size_t>(mix_seed(seed, 1) % candidates_.size());
      params = sampler_->sample(candidates_[cand].space, {}, seed);
    }
    const std::string name = trial_name(candidates_[cand], index);
    int64_t id = store_->create_trial(name, candidates_[cand].name, candidates_[cand].learner,
                                      params);
    return TrialTicket{id, {{"candidate", cand}, {"params", params}, {"seed", seed},
                            {"name", name}}};
  }

  std::shared_ptr<Prepared> prepared(size_t recipe, size_t fold, const FeatureRecipe& r) {
    std::shared_ptr<Prepared> held;
    {
      std::lock_guard<std::mutex> lock(prepared_mutex_);
      const size_t key = recipe * splits_.size() + fold;
      if (keep_one_recipe_)
        for (size_t i = 0; i < prepared_.size(); ++i)
          if (i != key && prepared_[i] && prepared_[i].use_count() == 1) prepared_[i].reset();
      if (!prepared_[key]) prepared_[key] = std::make_shared<Prepared>();
      held = prepared_[key];
    }
    Prepared& p = *held;
    std::call_once(p.once, [&] {
      auto t0 = Clock::now();
      const Split& s = splits_[fold];
      p.transform.fit(table_, features_, s.train, r);
      p.x_train = p.transform.transform(table_, &s.train);
      p.x_valid = p.transform.transform(table_, &s.valid);
      for (size_t i : s.train) p.y_train.push_back(encoded_.y[i]);
      for (size_t i : s.valid) p.y_valid.push_back(encoded_.y[i]);
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::lock_guard<std::mutex> lock(best_mutex_);
      double rows = static_cast<double>(s.train.size() + s.valid.size());
      timings_["transform_seconds"] = timings_.value("transform_seconds", 0.0) + secs;
      timings_["transform_rows"] = timings_.value("transform_rows", 0.0) + rows;
    });
    return held;
  }

  nlohmann::json metrics_of(const std::vector<float>& y, const std::vector<float>& pred) const {
    nlohmann::json m = nlohmann::json::object();
    for (Metric metric : reported_metrics(task_))
      m[std::string(to_string(metric))] = compute_metric(metric, task_, y, pred, num_classes());
    return m;
  }

  int num_classes() const { return is_classification(task_) ? static_cast<int>(encoded_.labels.size()) : 1; }

  // One trial, or — an MLP trial on a slot that batches — the trial and up to K-1 companions
  // that share its shapes, trained together (one strided-batched run on a GPU).
  struct TrialRun {
    int64_t id = 0;
    std::string name;
    Params params;
    uint64_t seed = 0;
    std::vector<PipelineMember> members;
    std::map<std::string, double> valid_sum, train_sum;
    nlohmann::json fold_objectives = nlohmann::json::array();
    nlohmann::json fit_infos = nlohmann::json::array();
    double fit_seconds = 0, predict_seconds = 0;
    size_t predicted_rows = 0;
    std::string error;
  };

  int batch_size_for(const CandidateDefinition& cand, const Slot& slot) const {
    if (cand.learner != "mlp") return 1;
    return std::max(1, slot.device.is_cuda() ? config_.gpu_mlp_batch : config_.cpu_mlp_batch);
  }

  // Companions for a batch: the next trials of the job, sampled from the same candidate with
  // the leader's shapes (mlp_batch_keys), so that they can train as one batch.
  void add_companions(std::vector<TrialRun>& runs, size_t cand_index, int count) {
    const CandidateDefinition& cand = candidates_[cand_index];
    for (int i = 0; i < count; ++i) {
      std::lock_guard<std::mutex> lock(ask_mutex_);
      if (asked_ >= config_.max_candidates || job_stop_.should_stop()) return;
      const int index = asked_++;
      TrialRun r;
      r.seed = mix_seed(config_.seed, static_cast<uint64_t>(index));
      r.params = sampler_->sample(cand.space, {}, r.seed);
      for (const auto& key : mlp_batch_keys()) r.params[key] = runs.front().params[key];
      r.name = trial_name(cand, index);
      r.id = store_->create_trial(r.name, cand.name, cand.learner, r.params);
      runs.push_back(std::move(r));
    }
  }

  // Validation and train metrics of one fitted member; adds it to the run.
  void evaluate(TrialRun& r, std::unique_ptr<Learner> learner, const Prepared& p,
                const CandidateDefinition& cand, double fit_seconds) {
    auto f1 = Clock::now();
    std::vector<float> pred;
    learner->predict(p.x_valid.view(), pred);
    r.predict_seconds += std::chrono::duration<double>(Clock::now() - f1).count();
    r.predicted_rows += p.x_valid.rows();
    r.fit_seconds += fit_seconds;
    for (float v : pred)
      if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions on validation rows");
    auto vm = metrics_of(p.y_valid, pred);
    for (auto& [k, v] : vm.items()) r.valid_sum[k] += v.get<double>();
    r.fold_objectives.push_back(vm[std::string(to_string(objective_))]);
    // Train metrics on at most 20,000 rows: enough to show over-fitting, cheap.
    size_t n_train = std::min<size_t>(p.x_train.rows(), 20000);
    std::vector<float> tpred;
    learner->predict(p.x_train.rows_view(0, n_train), tpred);
    std::vector<float> ty(p.y_train.begin(), p.y_train.begin() + static_cast<std::ptrdiff_t>(n_train));
    auto tm = metrics_of(ty, tpred);
    for (auto& [k, v] : tm.items()) r.train_sum[k] += v.get<double>();
    r.fit_infos.push_back(learner->fit_info());
    r.members.push_back({p.transform, std::move(learner), cand.learner, r.params});
  }

  void run_trial(const TrialTicket& t, const Slot& slot, const StopToken& stop) {
    const size_t cand_index = t.payload.at("candidate");
    const CandidateDefinition& cand = candidates_[cand_index];
    std::vector<TrialRun> runs(1);
    runs[0].id = t.trial_id;
    runs[0].name = t.payload.at("name");
    runs[0].params = t.payload.at("params");
    runs[0].seed = t.payload.at("seed");
    const int batch = batch_size_for(cand, slot);
    if (batch > 1) add_companions(runs, cand_index, batch - 1);
    for (auto& r : runs) store_->start_trial(r.id);
    const auto t0 = Clock::now();
    for (size_t f = 0; f < splits_.size(); ++f) {
      std::shared_ptr<Prepared> held;
      try {
        held = prepared(recipe_of_[cand_index], f, cand.recipe);
      } catch (const std::exception& e) {
        for (auto& r : runs) r.error = e.what();
        break;
      }
      const Prepared& p = *held;
      FitData data{p.x_train.view(), &p.y_train, p.x_valid.view(), &p.y_valid, task_, num_classes()};
      FitContext ctx;
      ctx.threads = slot.threads;
      ctx.device = slot.device;
      ctx.stop = stop;
      std::vector<size_t> alive;
      for (size_t i = 0; i < runs.size(); ++i)
        if (runs[i].error.empty()) alive.push_back(i);
      if (alive.empty()) break;
      auto f0 = Clock::now();
      if (runs.size() > 1) {
        std::vector<Params> params;
        std::vector<uint64_t> seeds;
        for (size_t i : alive) params.push_back(runs[i].params), seeds.push_back(mix_seed(runs[i].seed, f));
        std::vector<MlpBatchResult> results;
        try {
          results = fit_mlp_batch(data, params, seeds, ctx);
        } catch (const std::exception& e) {
          for (size_t i : alive) runs[i].error = e.what();
          break;
        }
        // The batch trained together: each trial is charged its share of the time.
        const double share = std::chrono::duration<double>(Clock::now() - f0).count() /
                             static_cast<double>(alive.size());
        for (size_t j = 0; j < alive.size(); ++j) {
          TrialRun& r = runs[alive[j]];
          if (!results[j].learner) {
            r.error = results[j].error;
            continue;
          }
          try {
            evaluate(r, std::move(results[j].learner), p, cand, share);
          } catch (const std::exception& e) {
            r.error = e.what();
          }
        }
      } else {
        TrialRun& r = runs[0];
        try {
          auto learner = make_learner(cand.learner);
          ctx.seed = mix_seed(r.seed, f);
          const int64_t id = r.id;
          ctx.report = [this, id, f](int step, double value) {
            if (f == 0 && (step % 10 == 0)) store_->report_intermediate(id, step, value);
            return true;
          };
          learner->fit(data, r.params, ctx);
          evaluate(r, std::move(learner), p, cand,
                   std::chrono::duration<double>(Clock::now() - f0).count());
        } catch (const std::exception& e) {
          r.error = e.what();
        }
      }
    }
    const bool job_limit = job_stop_.should_stop();
    const double total = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& r : runs) finish_run(r, cand_index, slot, stop, job_limit, total / runs.size(), runs.size());
  }

  void finish_run(TrialRun& r, size_t cand_index, const Slot& slot, const StopToken& stop,
                  bool job_limit, double seconds, size_t batch) {
    if (!r.error.empty()) {
      fail_trial(r.id, r.error);
      return;
    }
    if (stop.timed_out() && !job_limit) {
      fail_trial(r.id, "exceeded the per-trial time limit");
      return;
    }
    const double k = static_cast<double>(splits_.size());
    nlohmann::json metrics = {{"validation", nlohmann::json::object()}, {"train", nlohmann::json::object()}};
    for (auto& [name, v] : r.valid_sum) metrics["validation"][name] = v / k;
    for (auto& [name, v] : r.train_sum) metrics["train"][name] = v / k;
    if (splits_.size() > 1) metrics["fold_objectives"] = r.fold_objectives;
    double objective = metrics["validation"][std::string(to_string(objective_))];
    nlohmann::json info = {{"fit", r.fit_infos},
                           {"seconds", seconds},
                           {"fit_seconds", r.fit_seconds},
                           {"slot", slot.index},
                           {"device", slot.device.str()},
                           {"inference_latency_s_per_row",
                            r.predicted_rows ? r.predict_seconds / static_cast<double>(r.predicted_rows) : 0.0}};
    if (batch > 1) info["batch"] = batch;
    if (job_limit) info["stopped_by"] = "job time limit (the best state reached is kept)";
    store_->finish_trial(r.id, TrialState::kComplete, metrics, objective, "", info);
    offer_best(r.id, r.name, cand_index, r.params, mix_seed(r.seed, 0), r.fit_infos,
               r.fit_seconds, objective, std::move(r.members));
  }

  std::string trial_name(const CandidateDefinition& cand, int index) const {
    char num[16];
    std::snprintf(num, sizeof num, "%03d", index + 1);
    return cand.name + "-" + num;
  }

  bool better(double a, int64_t a_id, double b, int64_t b_id) const {
    if (a == b) return a_id < b_id;  // ties go to the earlier trial: deterministic
    return higher_is_better(objective_) ? a > b : a < b;
  }

  void offer_best(int64_t id, const std::string& name, size_t cand_index, const Params& params,
                  uint64_t trial_seed, const nlohmann::json& fit_infos, double fit_seconds, double objective,
                  std::vector<PipelineMember> members) {
    const CandidateDefinition& cand = candidates_[cand_index];
    std::lock_guard<std::mutex> lock(best_mutex_);
    ++finished_;
    if (!best_ || better(objective, id, best_objective_, best_id_)) {
      best_cand_ = cand_index;
      best_params_ = params;
      best_seed_ = trial_seed;
      best_fit_info_ = fit_infos.empty() ? nlohmann::json::object() : fit_infos[0];
      best_fit_seconds_ = fit_seconds;
      auto p = std::make_unique<Pipeline>();
      p->task = task_;
      p->target = config_.target;
      p->candidate = cand.name;
      p->features = features_;
      p->feature_types = feature_types_;
      p->labels = encoded_.labels;
      p->members = std::move(members);
      best_ = std::move(p);
      best_id_ = id;
      best_objective_ = objective;
      best_name_ = name;
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s %.6g (%s)", std::string(to_string(objective_)).c_str(),
                  best_objective_, best_name_.c_str());
    progress_->trial_finished(finished_, buf);
  }

  void fail_trial(int64_t id, const std::string& reason) {
    try {
      auto rec = store_->trial(id);
      if (rec && (rec->state == TrialState::kRunning || rec->state == TrialState::kWaiting)) {
        if (rec->state == TrialState::kWaiting) store_->start_trial(id);
        store_->finish_trial(id, TrialState::kFail, nlohmann::json::object(), std::nullopt, reason,
                             nlohmann::json::object());
      }
    } catch (const std::exception& e) {
      log::warn("could not record the failure of trial " + std::to_string(id) + ": " + e.what());
    }
    std::lock_guard<std::mutex> lock(best_mutex_);
    ++finished_;
    if (config_.progress) progress_->message("trial " + std::to_string(id) + " failed: " + reason);
  }

  // ---- 4. refit ----------------------------------------------------------------------
  // The best trial trained on 80% of the rows; the same candidate and hyperparameters, with
  // the number of rounds / epochs its early stopping chose, usually do better on all of
  // them. Skipped (the trial's own model is kept) when the time left looks too short or the
  // refit is cut by the hard deadline.
  void refit_best() {
    const CandidateDefinition& cand = candidates_[best_cand_];
    const double left = hard_stop_.seconds_left();
    const double need = best_fit_seconds_ * 1.5 + 0.5;
    if (left < need) {
      refit_info_ = {{"done", false}, {"reason", "not enough time left (" +
                      nlohmann::json(left).dump() + " s for an estimated " + nlohmann::json(need).dump() + " s)"}};
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
        refit_info_ = {{"done", false}, {"reason", "cut by the time limit; the trial's model is kept"}};
        return;
      }
      std::vector<float> pred;
      m.learner->predict(x.rows_view(0, std::min<size_t>(x.rows(), 10)), pred);
      for (float v : pred)
        if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions");
      best_->members.clear();
      best_->members.push_back(std::move(m));
      refit_info_ = {{"done", true}, {"rows", table_.num_rows}, {"params", params},
                     {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
    } catch (const std::exception& e) {
      refit_info_ = {{"done", false}, {"reason", std::string("refit failed: ") + e.what()}};
    }
  }

  // ---- 5. results --------------------------------------------------------------------
  JobResult finish() {
    if (!best_) {
      std::string reason = "no trial completed";
      for (const auto& t : store_->trials())
        if (t.state == TrialState::kFail) {
          reason += " (first failure: " + t.name + ": " + t.error + ")";
          break;
        }
      if (time_limit_reached_) reason += " within the time limit of " +
                                         nlohmann::json(config_.time_limit_s).dump() + " s";
      return fail(reason);
    }
    if (config_.refit && splits_.size() == 1) {
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
    status_ = "Completed";
    secondary_ = time_limit_reached_ ? "MaxAutoMLJobRuntimeReached"
                 : asked_ >= config_.max_candidates ? "MaxCandidatesReached" : "Completed";
    write_job_json();
    JobResult r;
    r.job_dir = job_dir_.string();
    r.status = status_;
    r.best_candidate = best_name_;
    r.best_objective = best_objective_;
    return r;
  }

  JobResult fail(const std::string& reason) {
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

  void write_job_json() {
    JobSummary s;
    s.name = name_;
    s.config = config_;
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
    nlohmann::json j = job_description(s, store_.get(), job_dir_);
    nlohmann::json t = timings_;
    if (t.contains("ingest_seconds") && t["ingest_seconds"].get<double>() > 0)
      t["ingest_rows_per_s"] = t["ingest_rows"].get<double>() / t["ingest_seconds"].get<double>();
    if (t.contains("transform_seconds") && t["transform_seconds"].get<double>() > 0)
      t["transform_rows_per_s"] = t["transform_rows"].get<double>() / t["transform_seconds"].get<double>();
    j["tabpilot"]["timings"] = t;
    if (!refit_info_.is_null()) j["tabpilot"]["refit"] = refit_info_;
    store_->put_job(j);
    write_json_atomic(job_dir_ / kJobFile, j);
  }

  JobConfig config_;
  Clock::time_point start_;
  double creation_time_ = unix_now();
  std::string name_;
  fs::path job_dir_;
  Table table_;
  Task task_ = Task::kRegression;
  bool task_detected_ = true;
  EncodedTarget encoded_;
  Metric objective_ = Metric::kMSE;
  std::vector<std::string> features_;
  std::vector<ColumnType> feature_types_;
  DataProfile profile_;
  nlohmann::json target_json_;
  std::unique_ptr<Store> store_;
  std::string status_, secondary_, failure_reason_;
  std::vector<Split> splits_;
  std::vector<CandidateDefinition> candidates_;
  std::vector<std::string> recipe_keys_;
  std::vector<size_t> recipe_of_;
  std::vector<std::shared_ptr<Prepared>> prepared_;
  std::mutex prepared_mutex_;
  bool keep_one_recipe_ = false;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Progress> progress_;
  std::atomic<bool> cancel_{false};
  StopToken job_stop_;   // tuning: no trial runs past it
  StopToken hard_stop_;  // the job's own limit, less a moment to write the results
  int threads_ = 1;
  size_t best_cand_ = 0;
  Params best_params_;
  nlohmann::json best_fit_info_, refit_info_;
  double best_fit_seconds_ = 0;
  uint64_t best_seed_ = 0;
  bool time_limit_reached_ = false;
  nlohmann::json timings_ = nlohmann::json::object();  // guarded by best_mutex_ once tuning starts
  std::mutex ask_mutex_;  // asked_ and trial creation: the scheduler and batch companions
  int asked_ = 0;
  size_t next_default_ = 0;  // candidates whose default trial has been asked for
  std::mutex best_mutex_;
  int finished_ = 0;
  std::unique_ptr<Pipeline> best_;
  int64_t best_id_ = 0;
  double best_objective_ = 0;
  std::string best_name_;
};

}  // namespace

JobResult run_fit(const JobConfig& config) { return FitJob(config).run(); }

}  // namespace tabpilot
