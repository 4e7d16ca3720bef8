#include "tabpilot/automl/trial_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "tabpilot/automl/trial_pool.h"
#include "tabpilot/common/log.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Direction direction_of(const JobPlan& plan) {
  return higher_is_better(plan.objective) ? Direction::kMaximize : Direction::kMinimize;
}

bool is_ensemble(const TrialRecord& t) { return t.learner == kEnsembleLearner; }

}  // namespace

std::vector<std::string> pool_members(const std::vector<TrialRecord>& records, size_t limit,
                                      size_t per_candidate, bool higher) {
  std::vector<const TrialRecord*> done;
  for (const auto& t : records)
    if (t.state == TrialState::kComplete && t.objective && !is_ensemble(t)) done.push_back(&t);
  std::sort(done.begin(), done.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    if (*a->objective == *b->objective) return a->id < b->id;
    return higher ? *a->objective > *b->objective : *a->objective < *b->objective;
  });
  std::vector<std::string> out;
  std::map<std::string, size_t> per;
  for (const TrialRecord* t : done) {
    if (out.size() >= limit) break;
    if (per[t->candidate] >= std::min(per_candidate, limit)) continue;
    ++per[t->candidate];
    out.push_back(t->name);
  }
  return out;
}

TrialRunner::TrialRunner(const JobPlan& plan, TrialStore& store, FeatureCache& features,
                         RunnerOptions options)
    : plan_(plan),
      store_(store),
      features_(features),
      options_(std::move(options)),
      sampler_(make_sampler(plan.config.sampler)),
      history_(store) {
  for (const auto& c : plan_.candidates) {
    spaces_.push_back(&c.space);
    candidate_names_.push_back(c.name);
  }
}

void TrialRunner::run(const std::vector<Slot>& slots, const StopToken& job_stop,
                      double per_trial_seconds) {
  job_stop_ = job_stop;
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    slot_trials_.assign(slots.size(), 0);
  }
  run_trials(
      slots, job_stop, per_trial_seconds, [this] { return ask(); },
      [this](const TrialTicket& t, const Slot& s, const StopToken& stop) { run_ticket(t, s, stop); },
      [this](const TrialTicket& t, const std::string& msg) {
        fail_trial(t.trial_id, "internal error: " + msg);
      });
}

std::vector<int> TrialRunner::trials_per_slot() const {
  std::lock_guard<std::mutex> lock(results_mutex_);
  return slot_trials_;
}

int TrialRunner::trials_created() const {
  std::lock_guard<std::mutex> lock(ask_mutex_);
  return created_;
}

std::optional<TrialTicket> TrialRunner::ask() {
  std::lock_guard<std::mutex> lock(ask_mutex_);
  if (job_stop_.should_stop()) return std::nullopt;
  // First the trials whose owner was gone (re-queued): claimed, so no other worker runs them.
  while (auto t = store_.claim_waiting(options_.owner)) {
    const int cand = plan_.candidate_index(t->candidate);
    if (cand < 0 || t->index < 0) {
      fail_trial(t->id, "cannot be resumed: its candidate definition is gone");
      continue;
    }
    return TrialTicket{t->id,
                       {{"candidate", cand},
                        {"params", t->params},
                        {"seed", plan_.trial_seed(t->index)},
                        {"name", t->name}}};
  }
  // Known-good defaults first, one per candidate (cheap and usually strong), then the
  // sampler over the joint space of all candidates, reading every trial so far (every
  // worker's: the running ones count as bad, so concurrent proposals spread).
  const std::vector<TrialRecord>& history = history_.refresh();
  created_ = static_cast<int>(std::count_if(history.begin(), history.end(),
                                            [](const TrialRecord& t) { return !is_ensemble(t); }));
  if (created_ >= plan_.config.max_candidates) return std::nullopt;
  // The proposal is made before the store numbers the trial, outside its transaction (other
  // workers wait on that), with the seed of the number it will most likely get: one more than
  // any so far. Alone it always gets that number, so a job's trials depend on its seed only;
  // beside other workers it may get another, which changes only which random proposal it was.
  // The trial trains with its number's seed either way.
  int next_index = 0;
  for (const auto& t : history) next_index = std::max(next_index, t.index + 1);
  std::optional<Proposal> proposal = next_default(spaces_, candidate_names_, history);
  if (!proposal)
    proposal = sampler_->propose(spaces_, candidate_names_, history, direction_of(plan_),
                                 plan_.trial_seed(next_index));
  const CandidateDefinition& c = plan_.candidates[proposal->candidate];
  const NewTrial t = store_.create_trial(
      TrialDraft{c.name, c.name, c.learner, proposal->params, 3, options_.owner});
  ++created_;
  return TrialTicket{t.id,
                     {{"candidate", proposal->candidate},
                      {"params", proposal->params},
                      {"seed", plan_.trial_seed(t.index)},
                      {"name", t.name}}};
}

int TrialRunner::batch_size_for(const CandidateDefinition& cand, const Slot& slot) const {
  if (!learner_info(cand.learner).fit_batch) return 1;
  return std::max(1, slot.device.is_cuda() ? plan_.config.gpu_mlp_batch
                                           : plan_.config.cpu_mlp_batch);
}

void TrialRunner::add_companions(std::vector<TrialSpec>& specs, int count) {
  const CandidateDefinition& cand = plan_.candidates[specs.front().candidate];
  const LearnerInfo& info = learner_info(cand.learner);
  for (int i = 0; i < count; ++i) {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    if (created_ >= plan_.config.max_candidates || job_stop_.should_stop()) return;
    const std::vector<TrialRecord>& history = history_.refresh();
    TrialSpec s;
    s.candidate = specs.front().candidate;
    const NewTrial t = store_.create_trial([&](int index) {
      s.seed = plan_.trial_seed(index);
      s.params =
          sampler_->propose({&cand.space}, {cand.name}, history, direction_of(plan_), s.seed).params;
      for (const auto& key : info.batch_keys) s.params[key] = specs.front().params[key];
      return TrialDraft{cand.name, cand.name, cand.learner, s.params, 3, options_.owner};
    });
    ++created_;
    s.id = t.id;
    s.name = t.name;
    specs.push_back(std::move(s));
  }
}

void TrialRunner::run_ticket(const TrialTicket& t, const Slot& slot, const StopToken& stop) {
  std::vector<TrialSpec> specs(1);
  specs[0].id = t.trial_id;
  specs[0].name = t.payload.at("name");
  specs[0].candidate = t.payload.at("candidate");
  specs[0].params = t.payload.at("params");
  specs[0].seed = t.payload.at("seed");
  const CandidateDefinition& cand = plan_.candidates[specs[0].candidate];
  const int batch = batch_size_for(cand, slot);
  if (batch > 1) add_companions(specs, batch - 1);
  TrialEnv env;
  env.device = slot.device;
  env.threads = slot.threads;
  env.stop = stop;
  const auto t0 = Clock::now();
  std::vector<TrialOutcome> outcomes;
  if (specs.size() > 1) {
    outcomes = train_trial_batch(plan_, features_, specs, env);
  } else {
    const int64_t id = specs[0].id;
    env.report = [this, id](int step, double value) { return report_step(id, step, value); };
    outcomes.push_back(train_trial(plan_, features_, specs[0], env));
  }
  const bool job_limit = job_stop_.should_stop();
  const double seconds = since(t0) / static_cast<double>(specs.size());
  for (size_t i = 0; i < specs.size(); ++i)
    record(specs[i], outcomes[i], slot, stop, job_limit, seconds, specs.size());
}

std::optional<std::string> TrialRunner::report_step(int64_t id, int step, double value) {
  bool at_rung = false;
  for (int k = 0; k < 8 && !at_rung; ++k) at_rung = rung_step(pruner_, k) == step;
  if (!at_rung && step % 10 != 0 && std::isfinite(value)) return std::nullopt;
  store_.report_intermediate(id, step, value);
  if (!plan_.config.prune || !(at_rung || !std::isfinite(value))) return std::nullopt;
  auto self = store_.trial(id);
  if (!self) return std::nullopt;
  PruneDecision d = judge(*self, step, value, store_.trials(), pruner_);
  if (!d.prune) return std::nullopt;
  return d.reason.empty() ? "pruned at step " + std::to_string(step) : d.reason;
}

void TrialRunner::record(const TrialSpec& spec, TrialOutcome& out, const Slot& slot,
                         const StopToken& stop, bool job_limit, double seconds, size_t batch) {
  {
    std::lock_guard<std::mutex> lock(results_mutex_);
    if (static_cast<size_t>(slot.index) < slot_trials_.size()) ++slot_trials_[slot.index];
  }
  if (out.status == TrialStatus::kPruned) {
    store_.finish_trial(spec.id, TrialState::kPruned, nlohmann::json::object(), std::nullopt,
                        out.reason, {{"seconds", seconds}, {"threads", slot.threads}});
    trial_done("");
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
  store_.finish_trial(spec.id, TrialState::kComplete, out.metrics, out.objective, "", info);
  keep_artifacts(spec, out);
}

void TrialRunner::keep_artifacts(const TrialSpec& spec, TrialOutcome& out) {
  std::vector<std::string> members;
  std::set<std::string> complete;
  {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    const std::vector<TrialRecord>& history = history_.refresh();
    members = pool_members(history, plan_.large ? 1 : kPoolSize, kPoolPerCandidate,
                           higher_is_better(plan_.objective));
    for (const auto& t : history)
      if (t.state == TrialState::kComplete) complete.insert(t.name);
  }
  const bool admitted = std::find(members.begin(), members.end(), spec.name) != members.end();
  if (admitted) {
    PoolEntry e;
    e.id = spec.id;
    e.name = spec.name;
    e.objective = out.objective;
    e.fit_info = out.fit_infos.empty() ? nlohmann::json::object() : out.fit_infos[0];
    e.fit_seconds = out.fit_seconds;
    e.oof = std::move(out.oof);
    e.pipeline =
        make_pipeline(plan_, plan_.candidates[spec.candidate].name, std::move(out.members));
    try {
      store_.put_artifacts(e.name, pool_entry_files(e));
    } catch (const std::exception& ex) {
      log::warn("could not save trial " + e.name + " for the ensemble pool: " + ex.what());
    }
  }
  // Trials the pool no longer holds lose their artifacts; ones this worker does not know to
  // be complete yet (another worker's, just saved) are left alone.
  for (const auto& name : store_.artifact_trials())
    if (complete.count(name) && std::find(members.begin(), members.end(), name) == members.end())
      store_.remove_artifacts(name);
  char buf[160] = "";
  {
    std::lock_guard<std::mutex> lock(ask_mutex_);
    const std::vector<TrialRecord>& history = history_.refresh();
    const TrialRecord* best = nullptr;
    for (const auto& t : history)
      if (!members.empty() && t.name == members.front()) best = &t;
    if (best)
      std::snprintf(buf, sizeof buf, "%s %.6g (%s)", std::string(to_string(plan_.objective)).c_str(),
                    *best->objective, best->name.c_str());
  }
  trial_done(buf);
}

void TrialRunner::fail_trial(int64_t id, const std::string& reason) {
  try {
    auto rec = store_.trial(id);
    if (rec && (rec->state == TrialState::kRunning || rec->state == TrialState::kWaiting)) {
      if (rec->state == TrialState::kWaiting) store_.start_trial(id, options_.owner);
      store_.finish_trial(id, TrialState::kFail, nlohmann::json::object(), std::nullopt, reason,
                          nlohmann::json::object());
    }
  } catch (const std::exception& e) {
    log::warn("could not record the failure of trial " + std::to_string(id) + ": " + e.what());
  }
  if (options_.log_failures && options_.progress)
    options_.progress->message("trial " + std::to_string(id) + " failed: " + reason);
  trial_done("");
}

void TrialRunner::trial_done(const std::string& note) {
  std::lock_guard<std::mutex> lock(results_mutex_);
  ++finished_;
  if (options_.progress && !note.empty()) options_.progress->trial_finished(finished_, note);
}

}  // namespace tabpilot
