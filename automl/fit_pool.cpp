// FitJob's pool of best trials: the fitted pipelines and validation predictions of the best
// kPoolSize trials (at most kPoolPerCandidate of one candidate), kept in memory and under
// <job>/trials/<name>/ (so that a resumed job still has them), the best single trial, and
// greedy ensemble selection over the pool at the end.
#include <fstream>

#include "tabpilot/automl/fit_job_internal.h"

namespace tabpilot::fit_detail {

int trial_index_from_name(const std::string& name) {
  size_t end = name.size(), begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1]))) --begin;
  if (begin == end || begin == 0 || name[begin - 1] != '-') return -1;
  return std::stoi(name.substr(begin)) - 1;
}

std::shared_ptr<Pipeline> FitJob::make_pipeline(const std::string& candidate,
                                                std::vector<PipelineMember> members) const {
  auto p = std::make_shared<Pipeline>();
  p->task = task_;
  p->target = config_.target;
  p->candidate = candidate;
  p->features = features_;
  p->feature_types = feature_types_;
  p->labels = encoded_.labels;
  p->members = std::move(members);
  return p;
}

void FitJob::save_trial_dir(const PoolEntry& e) const {
  const fs::path dir = job_dir_ / kTrialsDir / e.name;
  const fs::path tmp = job_dir_ / kTrialsDir / (e.name + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  e.pipeline->save(tmp);
  std::string bytes(reinterpret_cast<const char*>(e.oof.data()), e.oof.size() * sizeof(float));
  write_file_atomic(tmp / "validation_predictions.f32", bytes);
  write_json_atomic(tmp / "trial.json", {{"id", e.id},
                                         {"name", e.name},
                                         {"objective", e.objective},
                                         {"oof_sha256", sha256_hex(bytes)},
                                         {"fit_info", e.fit_info},
                                         {"fit_seconds", e.fit_seconds}});
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

void FitJob::load_pool_from_disk() {
  const size_t width = static_cast<size_t>(num_classes());
  std::vector<TrialRecord> done;
  for (auto& t : store_->trials())
    if (t.state == TrialState::kComplete && t.objective && t.learner != kEnsembleCandidate)
      done.push_back(std::move(t));
  std::sort(done.begin(), done.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    return better(*a.objective, a.id, *b.objective, b.id);
  });
  for (const auto& t : done) {
    if (pool_.size() >= pool_limit_) break;
    const fs::path dir = job_dir_ / kTrialsDir / t.name;
    auto cand = std::find_if(candidates_.begin(), candidates_.end(),
                             [&](const CandidateDefinition& c) { return c.name == t.candidate; });
    if (!fs::exists(dir / "trial.json") || cand == candidates_.end()) continue;
    if (!pool_admits(static_cast<size_t>(cand - candidates_.begin()), *t.objective, t.id)) continue;
    try {
      nlohmann::json info = read_json(dir / "trial.json");
      std::string bytes = read_file(dir / "validation_predictions.f32");
      if (bytes.size() != valid_rows_.size() * width * sizeof(float) ||
          sha256_hex(bytes) != info.value("oof_sha256", ""))
        throw InputError("validation predictions do not match this job's rows");
      PoolEntry e;
      e.id = t.id;
      e.name = t.name;
      e.cand = static_cast<size_t>(cand - candidates_.begin());
      e.objective = *t.objective;
      e.pipeline = std::make_shared<Pipeline>(Pipeline::load(dir));
      e.oof.resize(valid_rows_.size() * width);
      std::memcpy(e.oof.data(), bytes.data(), bytes.size());
      e.params = t.params;
      const int index = trial_index_from_name(t.name);
      e.seed = mix_seed(mix_seed(config_.seed, static_cast<uint64_t>(std::max(index, 0))), 0);
      e.fit_info = info.value("fit_info", nlohmann::json::object());
      e.fit_seconds = info.value("fit_seconds", 0.0);
      pool_.push_back(std::move(e));
    } catch (const std::exception& ex) {
      log::warn("resume: the saved model of trial " + t.name + " is not usable (" + ex.what() +
                "); it stays in the leaderboard but not in the ensemble pool");
    }
  }
  std::lock_guard<std::mutex> lock(best_mutex_);
  if (!pool_.empty()) adopt_best_locked();
}

bool FitJob::pool_admits(size_t cand, double objective, int64_t id) const {
  const PoolEntry* worst_same = nullptr;
  size_t same = 0;
  for (const auto& p : pool_)
    if (p.cand == cand) {
      ++same;
      worst_same = &p;
    }
  // A full share of its candidate: it must displace that candidate's worst entry.
  if (same >= std::min(kPoolPerCandidate, pool_limit_))
    return better(objective, id, worst_same->objective, worst_same->id);
  return pool_.size() < pool_limit_ || better(objective, id, pool_.back().objective, pool_.back().id);
}

std::vector<std::string> FitJob::pool_insert(PoolEntry e) {
  const size_t cand = e.cand;
  auto pos = std::find_if(pool_.begin(), pool_.end(), [&](const PoolEntry& p) {
    return better(e.objective, e.id, p.objective, p.id);
  });
  pool_.insert(pos, std::move(e));
  std::vector<std::string> evicted;
  size_t same = 0;
  for (auto it = pool_.begin(); it != pool_.end();) {
    if (it->cand == cand && ++same > kPoolPerCandidate) {
      evicted.push_back(it->name);
      it = pool_.erase(it);
    } else {
      ++it;
    }
  }
  while (pool_.size() > pool_limit_) {
    evicted.push_back(pool_.back().name);
    pool_.pop_back();
  }
  return evicted;
}

void FitJob::adopt_best_locked() {
  const PoolEntry& b = pool_.front();
  best_ = b.pipeline;
  best_cand_ = b.cand;
  best_params_ = b.params;
  best_seed_ = b.seed;
  best_fit_info_ = b.fit_info;
  best_fit_seconds_ = b.fit_seconds;
  best_id_ = b.id;
  best_objective_ = b.objective;
  best_name_ = b.name;
}

void FitJob::offer_best(int64_t id, const std::string& name, size_t cand_index,
                        const Params& params, uint64_t trial_seed, const nlohmann::json& fit_infos,
                        double fit_seconds, double objective, std::vector<PipelineMember> members,
                        std::vector<float> oof) {
  PoolEntry e;
  e.id = id;
  e.name = name;
  e.cand = cand_index;
  e.objective = objective;
  e.params = params;
  e.seed = trial_seed;
  e.fit_info = fit_infos.empty() ? nlohmann::json::object() : fit_infos[0];
  e.fit_seconds = fit_seconds;
  e.oof = std::move(oof);
  for (auto& m : members) m.trial = name;
  e.pipeline = make_pipeline(candidates_[cand_index].name, std::move(members));
  auto admissible = [&] { return pool_admits(cand_index, objective, id); };
  bool admit;
  {
    std::lock_guard<std::mutex> lock(best_mutex_);
    admit = admissible();
  }
  // Saving happens outside the lock: other trials keep finishing meanwhile.
  if (admit) {
    try {
      save_trial_dir(e);
    } catch (const std::exception& ex) {
      log::warn("could not save trial " + name + " for resume: " + ex.what());
    }
  }
  std::vector<std::string> evicted;
  {
    std::lock_guard<std::mutex> lock(best_mutex_);
    ++finished_;
    if (admit && admissible()) {
      evicted = pool_insert(std::move(e));
      adopt_best_locked();
    } else if (admit) {
      evicted.push_back(name);
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s %.6g (%s)", std::string(to_string(objective_)).c_str(),
                  best_objective_, best_name_.c_str());
    progress_->trial_finished(finished_, buf);
  }
  for (const auto& n : evicted) {
    std::error_code ec;
    fs::remove_all(job_dir_ / kTrialsDir / n, ec);
  }
}

bool FitJob::build_ensemble() {
  if (config_.ensemble_rounds < 2 || pool_.size() < 2) return false;
  std::vector<float> y;
  y.reserve(valid_rows_.size());
  for (size_t r : valid_rows_) y.push_back(encoded_.y[r]);
  std::vector<const std::vector<float>*> preds;
  for (const auto& e : pool_) preds.push_back(&e.oof);
  const Metric metric = ensemble_selection_metric(task_, objective_, config_.ensemble_metric);
  EnsembleSelection sel =
      select_ensemble(preds, y, task_, num_classes(), metric, config_.ensemble_rounds);
  nlohmann::json members = nlohmann::json::array();
  size_t used = 0;
  for (size_t m = 0; m < pool_.size(); ++m)
    if (sel.weights[m] > 0) {
      ++used;
      members.push_back({{"trial", pool_[m].name}, {"weight", sel.weights[m]}});
    }
  ensemble_info_ = {{"rounds", sel.rounds},
                    {"pool", pool_.size()},
                    {"members", members},
                    {"selection_metric", std::string(to_string(metric))},
                    {"selection_value", sel.objective},
                    {"best_single_selection_value", sel.single_objective},
                    // both objectives below on the pooled rows, like the selection
                    {"best_single_objective",
                     compute_metric(objective_, task_, y, pool_[0].oof, num_classes())}};
  const bool improved = higher_is_better(metric) ? sel.objective > sel.single_objective
                                                 : sel.objective < sel.single_objective;
  if (used < 2 || !improved) {
    ensemble_info_["used"] = false;
    ensemble_info_["reason"] = "no combination scored better than the best trial alone";
    return false;
  }
  // The ensemble's members are every fold model of every selected trial; a trial's weight is
  // shared equally by its folds.
  std::vector<PipelineMember> all;
  std::vector<float> pred(pool_[0].oof.size(), 0.0f);
  for (size_t m = 0; m < pool_.size(); ++m) {
    if (sel.weights[m] <= 0) continue;
    auto& src = pool_[m].pipeline->members;
    for (auto& member : src) {
      PipelineMember copy;
      copy.transform = member.transform;
      copy.learner = make_learner(member.learner_name);
      copy.learner->deserialize(member.learner->serialize());
      copy.learner_name = member.learner_name;
      copy.params = member.params;
      copy.trial = pool_[m].name;
      copy.weight = sel.weights[m] / static_cast<double>(src.size());
      all.push_back(std::move(copy));
    }
    for (size_t i = 0; i < pred.size(); ++i)
      pred[i] += static_cast<float>(sel.weights[m]) * pool_[m].oof[i];
  }
  const std::string name = std::string(kEnsembleCandidate) + "-" + std::to_string(asked_ + 1);
  nlohmann::json params = {{"members", members}, {"rounds", sel.rounds}};
  int64_t id = store_->create_trial(name, kEnsembleCandidate, kEnsembleCandidate, params);
  store_->start_trial(id);
  // Its objective on the pooled rows, in the job's metric (what the leaderboard ranks by).
  const double objective = compute_metric(objective_, task_, y, pred, num_classes());
  ensemble_info_["objective"] = objective;
  nlohmann::json metrics = {{"validation", metrics_of(y, pred)}, {"train", nlohmann::json::object()}};
  store_->finish_trial(id, TrialState::kComplete, metrics, objective, "",
                       {{"ensemble", ensemble_info_}});
  best_ = make_pipeline(kEnsembleCandidate, std::move(all));
  best_id_ = id;
  best_name_ = name;
  best_objective_ = objective;
  ensemble_info_["used"] = true;
  ensemble_pred_ = std::move(pred);
  return true;
}

void FitJob::choose_threshold(const std::vector<float>& pred) {
  if (task_ != Task::kBinary || !best_) return;
  if (objective_ != Metric::kF1 && objective_ != Metric::kAccuracy &&
      objective_ != Metric::kBalancedAccuracy)
    return;  // precision and recall alone would be maximised by a degenerate threshold
  std::vector<float> y;
  for (size_t r : valid_rows_) y.push_back(encoded_.y[r]);
  const size_t n = y.size();
  // Candidates: 0.5 and up to 199 quantiles of the positive-class probabilities.
  std::vector<float> p1(n);
  for (size_t i = 0; i < n; ++i) p1[i] = pred[i * 2 + 1];
  std::vector<float> sorted = p1;
  std::sort(sorted.begin(), sorted.end());
  std::vector<float> cands = {0.5f};
  for (int q = 1; q < 200; ++q) cands.push_back(sorted[std::min(n - 1, n * q / 200)]);
  std::vector<float> shifted(n * 2);
  auto score = [&](float t) {
    // Moving every probability by (0.5 - t) puts the threshold t where the metric's 0.5 is.
    for (size_t i = 0; i < n; ++i) {
      shifted[i * 2 + 1] = p1[i] + (0.5f - t);
      shifted[i * 2] = 1.0f - shifted[i * 2 + 1];
    }
    return compute_metric(objective_, task_, y, shifted, 2);
  };
  const double at_half = score(0.5f);
  float best_t = 0.5f;
  double best_s = at_half;
  for (float t : cands) {
    if (!(t > 0.0f && t < 1.0f)) continue;
    double v = score(t);
    if (v > best_s || (v == best_s && std::fabs(t - 0.5f) < std::fabs(best_t - 0.5f)))
      best_s = v, best_t = t;
  }
  best_->decision_threshold = best_t;
  threshold_info_ = {{"value", best_t},
                     {"metric", std::string(to_string(objective_))},
                     {"validation_at_0.5", at_half},
                     {"validation_at_threshold", best_s}};
}

ValidationPredictions FitJob::validation_predictions(std::vector<float> pred) const {
  ValidationPredictions v;
  v.task = task_;
  v.labels = encoded_.labels;
  v.rows.reserve(valid_rows_.size());
  for (size_t r : valid_rows_) {
    v.rows.push_back(encoded_.kept_rows.empty() ? r : encoded_.kept_rows[r]);
    v.y_true.push_back(encoded_.y[r]);
  }
  v.pred = std::move(pred);
  return v;
}

void FitJob::write_validation_predictions(const std::vector<float>& pred) {
  ValidationPredictions v = validation_predictions(pred);
  v.decision_threshold = best_ ? best_->decision_threshold : 0.5f;
  save_validation_predictions(job_dir_ / kValidationPredictionsFile, v);
}

}  // namespace tabpilot::fit_detail
