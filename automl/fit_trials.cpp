// FitJob's trials: asking for the next one (trials to resume first, then every candidate's
// defaults, then the sampler), running one trial or a batch on a slot through the trial
// function, recording the outcome in the store, and keeping the pool of the best.
#include <cmath>
#include <cstdio>

#include "tabpilot/automl/fit_job_internal.h"
#include "tabpilot/automl/lease.h"
#include "tabpilot/common/log.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot::fit_detail {
namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

std::optional<TrialTicket> FitJob::ask() {
  std::lock_guard<std::mutex> lock(ask_mutex_);
  if (job_stop_.should_stop()) return std::nullopt;
  // A resumed job first runs again the trials that were running when it was killed.
  while (!requeued_.empty()) {
    TrialRecord t = std::move(requeued_.front());
    requeued_.pop_front();
    const int cand = plan_.candidate_index(t.candidate);
    if (cand < 0 || t.index < 0) {
      fail_trial(t.id, "cannot be resumed: its candidate definition is gone");
      continue;
    }
    return TrialTicket{t.id,
                       {{"candidate", cand},
                        {"params", t.params},
                        {"seed", plan_.trial_seed(t.index)},
                        {"name", t.name}}};
  }
  if (asked_ >= config_.max_candidates) return std::nullopt;
  ++asked_;
  // Known-good defaults first, one per candidate (cheap and usually strong), then the
  // sampler over the joint space of all candidates, reading every trial so far. The seed
  // follows from the trial's number, which the store gives out.
  const std::vector<TrialRecord> history = store_->trials();
  const Direction direction =
      higher_is_better(plan_.objective) ? Direction::kMaximize : Direction::kMinimize;
  size_t cand = 0;
  uint64_t seed = 0;
  Params params;
  const NewTrial t = store_->create_trial([&](int index) {
    seed = plan_.trial_seed(index);
    std::optional<Proposal> proposal = next_default(spaces_, candidate_names_, history);
    if (!proposal) proposal = sampler_->propose(spaces_, candidate_names_, history, direction, seed);
    cand = proposal->candidate;
    params = proposal->params;
    const CandidateDefinition& c = plan_.candidates[cand];
    return TrialDraft{c.name, c.name, c.learner, params};
  });
  return TrialTicket{t.id, {{"candidate", cand}, {"params", params}, {"seed", seed}, {"name", t.name}}};
}

int FitJob::batch_size_for(const CandidateDefinition& cand, const Slot& slot) const {
  if (!learner_info(cand.learner).fit_batch) return 1;
  return std::max(1, slot.device.is_cuda() ? config_.gpu_mlp_batch : config_.cpu_mlp_batch);
}

void FitJob::add_companions(std::vector<TrialSpec>& specs, int count) {
  const CandidateDefinition& cand = plan_.candidates[specs.front().candidate];
  const LearnerInfo& info = learner_info(cand.learner);
  const Direction direction =
      higher_is_better(plan_.objective) ? Direction::kMaximize : Direction::kMinimize;
  for (int i = 0; i < count; ++i) {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    if (asked_ >= config_.max_candidates || job_stop_.should_stop()) return;
    ++asked_;
    TrialSpec s;
    s.candidate = specs.front().candidate;
    const std::vector<TrialRecord> history = store_->trials();
    const NewTrial t = store_->create_trial([&](int index) {
      s.seed = plan_.trial_seed(index);
      s.params = sampler_->propose({&cand.space}, {cand.name}, history, direction, s.seed).params;
      for (const auto& key : info.batch_keys) s.params[key] = specs.front().params[key];
      return TrialDraft{cand.name, cand.name, cand.learner, s.params};
    });
    s.id = t.id;
    s.name = t.name;
    specs.push_back(std::move(s));
  }
}

void FitJob::run_ticket(const TrialTicket& t, const Slot& slot, const StopToken& stop) {
  std::vector<TrialSpec> specs(1);
  specs[0].id = t.trial_id;
  specs[0].name = t.payload.at("name");
  specs[0].candidate = t.payload.at("candidate");
  specs[0].params = t.payload.at("params");
  specs[0].seed = t.payload.at("seed");
  const CandidateDefinition& cand = plan_.candidates[specs[0].candidate];
  const int batch = batch_size_for(cand, slot);
  if (batch > 1) add_companions(specs, batch - 1);
  for (const auto& s : specs) store_->start_trial(s.id, this_worker().str());
  TrialEnv env;
  env.device = slot.device;
  env.threads = slot.threads;
  env.stop = stop;
  const auto t0 = Clock::now();
  std::vector<TrialOutcome> outcomes;
  if (specs.size() > 1) {
    outcomes = train_trial_batch(plan_, *features_, specs, env);
  } else {
    const int64_t id = specs[0].id;
    env.report = [this, id](int step, double value) { return report_step(id, step, value); };
    outcomes.push_back(train_trial(plan_, *features_, specs[0], env));
  }
  const bool job_limit = job_stop_.should_stop();
  const double seconds = since(t0) / static_cast<double>(specs.size());
  for (size_t i = 0; i < specs.size(); ++i)
    record(specs[i], outcomes[i], slot, stop, job_limit, seconds, specs.size());
}

std::optional<std::string> FitJob::report_step(int64_t id, int step, double value) {
  const PrunerConfig& pc = pruner_config_;
  bool at_rung = false;
  for (int k = 0; k < 8 && !at_rung; ++k) at_rung = rung_step(pc, k) == step;
  if (!at_rung && step % 10 != 0 && std::isfinite(value)) return std::nullopt;
  store_->report_intermediate(id, step, value);
  if (!config_.prune || !(at_rung || !std::isfinite(value))) return std::nullopt;
  auto self = store_->trial(id);
  if (!self) return std::nullopt;
  PruneDecision d = judge(*self, step, value, store_->trials(), pc);
  if (!d.prune) return std::nullopt;
  return d.reason.empty() ? "pruned at step " + std::to_string(step) : d.reason;
}

void FitJob::record(const TrialSpec& spec, TrialOutcome& out, const Slot& slot,
                    const StopToken& stop, bool job_limit, double seconds, size_t batch) {
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    if (static_cast<size_t>(slot.index) < slot_trials_.size()) ++slot_trials_[slot.index];
  }
  if (out.status == TrialStatus::kPruned) {
    store_->finish_trial(spec.id, TrialState::kPruned, nlohmann::json::object(), std::nullopt,
                         out.reason, {{"seconds", seconds}, {"threads", slot.threads}});
    std::lock_guard<std::mutex> lock(results_mutex_);
    ++finished_;
    return;
  }
  if (out.status == TrialStatus::kFailed) {
    fail_trial(spec.id, out.reason);
    return;
  }
  if (stop.timed_out() && !job_limit) {
    fail_trial(spec.id, "exceeded the per-trial time limit");
    return;
  }
  nlohmann::json info = {
      {"fit", out.fit_infos},
      {"seconds", seconds},
      {"fit_seconds", out.fit_seconds},
      {"slot", slot.index},
      {"threads", slot.threads},
      {"device", slot.device.str()},
      {"inference_latency_s_per_row",
       out.predicted_rows ? out.predict_seconds / static_cast<double>(out.predicted_rows) : 0.0}};
  if (batch > 1) info["batch"] = batch;
  if (job_limit) info["stopped_by"] = "job time limit (the best state reached is kept)";
  store_->finish_trial(spec.id, TrialState::kComplete, out.metrics, out.objective, "", info);
  offer_to_pool(spec, out);
}

void FitJob::offer_to_pool(const TrialSpec& spec, TrialOutcome& out) {
  PoolEntry e;
  e.id = spec.id;
  e.name = spec.name;
  e.cand = spec.candidate;
  e.objective = out.objective;
  e.params = spec.params;
  e.seed = spec.seed;
  e.fit_info = out.fit_infos.empty() ? nlohmann::json::object() : out.fit_infos[0];
  e.fit_seconds = out.fit_seconds;
  e.oof = std::move(out.oof);
  e.pipeline = make_pipeline(plan_, plan_.candidates[spec.candidate].name, std::move(out.members));
  bool admit;
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    admit = pool_.admits(e.cand, e.objective, e.id);
  }
  // Saving happens outside the lock: other trials keep finishing meanwhile.
  if (admit) {
    try {
      store_->put_artifacts(e.name, pool_entry_files(e));
    } catch (const std::exception& ex) {
      log::warn("could not save trial " + e.name + " for resume: " + ex.what());
    }
  }
  std::vector<std::string> evicted;
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    ++finished_;
    if (admit && pool_.admits(e.cand, e.objective, e.id)) {
      evicted = pool_.insert(std::move(e));
    } else if (admit) {
      evicted.push_back(e.name);
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s %.6g (%s)", std::string(to_string(plan_.objective)).c_str(),
                  pool_.best().objective, pool_.best().name.c_str());
    progress_->trial_finished(finished_, buf);
  }
  for (const auto& n : evicted) store_->remove_artifacts(n);
}

void FitJob::fail_trial(int64_t id, const std::string& reason) {
  try {
    auto rec = store_->trial(id);
    if (rec && (rec->state == TrialState::kRunning || rec->state == TrialState::kWaiting)) {
      if (rec->state == TrialState::kWaiting) store_->start_trial(id, this_worker().str());
      store_->finish_trial(id, TrialState::kFail, nlohmann::json::object(), std::nullopt, reason,
                           nlohmann::json::object());
    }
  } catch (const std::exception& e) {
    log::warn("could not record the failure of trial " + std::to_string(id) + ": " + e.what());
  }
  std::lock_guard<std::mutex> lock(results_mutex_);
  ++finished_;
  if (config_.progress) progress_->message("trial " + std::to_string(id) + " failed: " + reason);
}

}  // namespace tabpilot::fit_detail
