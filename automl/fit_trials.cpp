// FitJob's trials: asking the sampler for the next one (defaults first), the features of
// each (recipe, fold) computed once and shared, running one trial or a batch of compatible
// MLP trials on a slot, scoring them, and keeping the best pipeline so far.
#include "tabpilot/automl/fit_job_internal.h"

#include <malloc.h>  // for malloc_trim

namespace tabpilot::fit_detail {

std::optional<TrialTicket> FitJob::ask() {
  std::lock_guard<std::mutex> lock(ask_mutex_);
  if (job_stop_.should_stop()) return std::nullopt;
  // A resumed job first runs again the trials that were running when it was killed.
  while (!requeued_.empty()) {
    TrialRecord t = std::move(requeued_.front());
    requeued_.pop_front();
    auto cand = std::find_if(candidates_.begin(), candidates_.end(),
                             [&](const CandidateDefinition& c) { return c.name == t.candidate; });
    const int index = trial_index_from_name(t.name);
    if (cand == candidates_.end() || index < 0) {
      fail_trial(t.id, "cannot be resumed: its candidate definition is gone");
      continue;
    }
    return TrialTicket{t.id,
                       {{"candidate", static_cast<size_t>(cand - candidates_.begin())},
                        {"params", t.params},
                        {"seed", mix_seed(config_.seed, static_cast<uint64_t>(index))},
                        {"name", t.name}}};
  }
  if (asked_ >= config_.max_candidates) return std::nullopt;
  const int index = asked_++;
  const uint64_t seed = mix_seed(config_.seed, static_cast<uint64_t>(index));
  // Known-good defaults first, one per candidate (cheap and usually strong), then the
  // sampler over the joint space of all candidates, reading every trial so far.
  const std::vector<TrialRecord> history = store_->trials();
  std::optional<Proposal> proposal = next_default(spaces_, candidate_names_, history);
  if (!proposal)
    proposal = sampler_->propose(spaces_, candidate_names_, history,
                                 higher_is_better(objective_) ? Direction::kMaximize
                                                              : Direction::kMinimize,
                                 seed);
  const size_t cand = proposal->candidate;
  const Params& params = proposal->params;
  const std::string name = trial_name(candidates_[cand], index);
  int64_t id =
      store_->create_trial(name, candidates_[cand].name, candidates_[cand].learner, params);
  return TrialTicket{id, {{"candidate", cand}, {"params", params}, {"seed", seed}, {"name", name}}};
}

std::shared_ptr<Prepared> FitJob::prepared(size_t recipe, size_t fold, const FeatureRecipe& r) {
  std::shared_ptr<Prepared> held;
  bool evicted = false;
  {
    std::lock_guard<std::mutex> lock(prepared_mutex_);
    const size_t key = recipe * splits_.size() + fold;
    if (keep_one_recipe_)
      for (size_t i = 0; i < prepared_.size(); ++i)
        if (i != key && prepared_[i] && prepared_[i].use_count() == 1) {
          prepared_[i].reset();
          evicted = true;
        }
    if (!prepared_[key]) prepared_[key] = std::make_shared<Prepared>();
    held = prepared_[key];
  }
  if (evicted) ::malloc_trim(0);  // give the evicted features' pages back to the system
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

nlohmann::json FitJob::metrics_of(const std::vector<float>& y,
                                  const std::vector<float>& pred) const {
  nlohmann::json m = nlohmann::json::object();
  for (Metric metric : reported_metrics(task_))
    m[std::string(to_string(metric))] = compute_metric(metric, task_, y, pred, num_classes());
  return m;
}

int FitJob::batch_size_for(const CandidateDefinition& cand, const Slot& slot) const {
  if (cand.learner != "mlp") return 1;
  return std::max(1, slot.device.is_cuda() ? config_.gpu_mlp_batch : config_.cpu_mlp_batch);
}

void FitJob::add_companions(std::vector<TrialRun>& runs, size_t cand_index, int count) {
  const CandidateDefinition& cand = candidates_[cand_index];
  for (int i = 0; i < count; ++i) {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    if (asked_ >= config_.max_candidates || job_stop_.should_stop()) return;
    const int index = asked_++;
    TrialRun r;
    r.seed = mix_seed(config_.seed, static_cast<uint64_t>(index));
    r.params = sampler_
                   ->propose({&cand.space}, {cand.name}, store_->trials(),
                             higher_is_better(objective_) ? Direction::kMaximize
                                                          : Direction::kMinimize,
                             r.seed)
                   .params;
    for (const auto& key : mlp_batch_keys()) r.params[key] = runs.front().params[key];
    r.name = trial_name(cand, index);
    r.id = store_->create_trial(r.name, cand.name, cand.learner, r.params);
    runs.push_back(std::move(r));
  }
}

void FitJob::evaluate(TrialRun& r, std::unique_ptr<Learner> learner, const Prepared& p,
                      const CandidateDefinition& cand, double fit_seconds, size_t fold) {
  auto f1 = Clock::now();
  std::vector<float> pred;
  learner->predict(p.x_valid.view(), pred);
  r.predict_seconds += std::chrono::duration<double>(Clock::now() - f1).count();
  r.predicted_rows += p.x_valid.rows();
  r.fit_seconds += fit_seconds;
  for (float v : pred)
    if (!std::isfinite(v)) throw std::runtime_error("non-finite predictions on validation rows");
  const size_t width = static_cast<size_t>(num_classes());
  if (r.oof.empty()) r.oof.assign(valid_rows_.size() * width, 0.0f);
  const auto& rows = splits_[fold].valid;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t pos = valid_pos_[rows[i]];
    if (pos < 0) continue;
    std::copy_n(pred.begin() + static_cast<std::ptrdiff_t>(i * width), width,
                r.oof.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(pos) * width));
  }
  auto vm = metrics_of(p.y_valid, pred);
  for (auto& [k, v] : vm.items()) r.valid_sum[k] += v.get<double>();
  r.fold_objectives.push_back(vm[std::string(to_string(objective_))]);
  // Train metrics on at most 20,000 rows: enough to show over-fitting, cheap.
  size_t n_train = std::min<size_t>(p.x_train.rows(), 20000);
  std::vector<float> tpred;
  learner->predict(p.x_train.rows_view(0, n_train), tpred);
  std::vector<float> ty(p.y_train.begin(),
                        p.y_train.begin() + static_cast<std::ptrdiff_t>(n_train));
  auto tm = metrics_of(ty, tpred);
  for (auto& [k, v] : tm.items()) r.train_sum[k] += v.get<double>();
  r.fit_infos.push_back(learner->fit_info());
  r.members.push_back({p.transform, std::move(learner), cand.learner, r.params, 0.0, r.name});
}

void FitJob::run_trial(const TrialTicket& t, const Slot& slot, const StopToken& stop) {
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
      for (size_t i : alive)
        params.push_back(runs[i].params), seeds.push_back(mix_seed(runs[i].seed, f));
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
          evaluate(r, std::move(results[j].learner), p, cand, share, f);
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
        std::string pruned;
        ctx.report = [this, id, f, &pruned](int step, double value) {
          return report_step(id, f, step, value, pruned);
        };
        learner->fit(data, r.params, ctx);
        if (!pruned.empty()) {
          r.pruned = pruned;
          break;
        }
        evaluate(r, std::move(learner), p, cand,
                 std::chrono::duration<double>(Clock::now() - f0).count(), f);
      } catch (const std::exception& e) {
        r.error = e.what();
      }
    }
  }
  const bool job_limit = job_stop_.should_stop();
  const double total = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& r : runs)
    finish_run(r, cand_index, slot, stop, job_limit, total / runs.size(), runs.size());
}

bool FitJob::report_step(int64_t id, size_t fold, int step, double value, std::string& pruned) {
  // Fold 0 carries the learning curve (the other folds would repeat it).
  if (fold != 0) return true;
  const PrunerConfig& pc = pruner_config_;
  bool at_rung = false;
  for (int k = 0; k < 8 && !at_rung; ++k) at_rung = rung_step(pc, k) == step;
  if (!at_rung && step % 10 != 0 && std::isfinite(value)) return true;
  store_->report_intermediate(id, step, value);
  if (!config_.prune || !(at_rung || !std::isfinite(value))) return true;
  auto self = store_->trial(id);
  if (!self) return true;
  PruneDecision d = judge(*self, step, value, store_->trials(), pc);
  if (!d.prune) return true;
  pruned = d.reason.empty() ? "pruned at step " + std::to_string(step) : d.reason;
  return false;
}

void FitJob::finish_run(TrialRun& r, size_t cand_index, const Slot& slot, const StopToken& stop,
                        bool job_limit, double seconds, size_t batch) {
  if (!r.pruned.empty()) {
    store_->finish_trial(r.id, TrialState::kPruned, nlohmann::json::object(), std::nullopt,
                         r.pruned, {{"seconds", seconds}, {"threads", slot.threads}});
    std::lock_guard<std::mutex> lock(best_mutex_);
    ++finished_;
    return;
  }
  if (!r.error.empty()) {
    fail_trial(r.id, r.error);
    return;
  }
  if (stop.timed_out() && !job_limit) {
    fail_trial(r.id, "exceeded the per-trial time limit");
    return;
  }
  const double k = static_cast<double>(splits_.size());
  nlohmann::json metrics = {{"validation", nlohmann::json::object()},
                            {"train", nlohmann::json::object()}};
  for (auto& [name, v] : r.valid_sum) metrics["validation"][name] = v / k;
  for (auto& [name, v] : r.train_sum) metrics["train"][name] = v / k;
  if (splits_.size() > 1) metrics["fold_objectives"] = r.fold_objectives;
  double objective = metrics["validation"][std::string(to_string(objective_))];
  nlohmann::json info = {
      {"fit", r.fit_infos},
      {"seconds", seconds},
      {"fit_seconds", r.fit_seconds},
      {"slot", slot.index},
      {"threads", slot.threads},
      {"device", slot.device.str()},
      {"inference_latency_s_per_row",
       r.predicted_rows ? r.predict_seconds / static_cast<double>(r.predicted_rows) : 0.0}};
  if (batch > 1) info["batch"] = batch;
  if (job_limit) info["stopped_by"] = "job time limit (the best state reached is kept)";
  store_->finish_trial(r.id, TrialState::kComplete, metrics, objective, "", info);
  offer_best(r.id, r.name, cand_index, r.params, mix_seed(r.seed, 0), r.fit_infos, r.fit_seconds,
             objective, std::move(r.members), std::move(r.oof));
}

std::string FitJob::trial_name(const CandidateDefinition& cand, int index) const {
  char num[16];
  std::snprintf(num, sizeof num, "%03d", index + 1);
  return cand.name + "-" + num;
}

bool FitJob::better(double a, int64_t a_id, double b, int64_t b_id) const {
  if (a == b) return a_id < b_id;  // ties go to the earlier trial: deterministic
  return higher_is_better(objective_) ? a > b : a < b;
}

void FitJob::fail_trial(int64_t id, const std::string& reason) {
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

}  // namespace tabpilot::fit_detail
