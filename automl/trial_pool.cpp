#include "tabpilot/automl/trial_pool.h"

#include <algorithm>
#include <cstring>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"

namespace tabpilot {
namespace {

constexpr const char* kPredictionsFile = "validation_predictions.f32";
constexpr const char* kTrialFile = "trial.json";

}  // namespace

ArtifactFiles pool_entry_files(const PoolEntry& e) {
  ArtifactFiles files = e.pipeline->to_files();
  std::string bytes(reinterpret_cast<const char*>(e.oof.data()), e.oof.size() * sizeof(float));
  const nlohmann::json info = {{"id", e.id},
                               {"name", e.name},
                               {"objective", e.objective},
                               {"oof_sha256", sha256_hex(bytes)},
                               {"fit_info", e.fit_info},
                               {"fit_seconds", e.fit_seconds}};
  files[kTrialFile] = info.dump(2) + "\n";
  files[kPredictionsFile] = std::move(bytes);
  return files;
}

const std::shared_ptr<Pipeline>& PoolEntry::model() {
  if (!pipeline && load) pipeline = load();
  if (!pipeline) throw std::logic_error("pool entry " + name + " has no model");
  return pipeline;
}

PoolEntry pool_entry_from_store(const TrialStore& store, const std::string& trial, size_t values) {
  const auto info_text = store.get_artifact(trial, kTrialFile);
  const auto bytes = store.get_artifact(trial, kPredictionsFile);
  if (!info_text || !bytes) throw InputError(trial + ": the saved trial is incomplete");
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(*info_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(trial + "/" + kTrialFile + ": not valid JSON");
  }
  if (bytes->size() != values * sizeof(float) || sha256_hex(*bytes) != info.value("oof_sha256", ""))
    throw InputError("validation predictions do not match this job's rows");
  PoolEntry e;
  e.oof.resize(values);
  std::memcpy(e.oof.data(), bytes->data(), bytes->size());
  e.fit_info = info.value("fit_info", nlohmann::json::object());
  e.fit_seconds = info.value("fit_seconds", 0.0);
  const TrialStore* from = &store;
  const std::string where = store.location() + " (" + trial + ")";
  e.load = [from, trial, where] {
    const auto files = from->get_artifacts(trial);
    if (!files) throw InputError(where + ": the saved model is gone");
    return std::make_shared<Pipeline>(Pipeline::from_files(*files, where));
  };
  return e;
}

bool TrialPool::better(double a, int64_t a_id, double b, int64_t b_id) const {
  if (a == b) return a_id < b_id;  // ties go to the earlier trial: deterministic
  return higher_ ? a > b : a < b;
}

bool TrialPool::admits(size_t cand, double objective, int64_t id) const {
  const PoolEntry* worst_same = nullptr;
  size_t same = 0;
  for (const auto& p : entries_)
    if (p.cand == cand) {
      ++same;
      worst_same = &p;
    }
  // A full share of its candidate: it must displace that candidate's worst entry.
  if (same >= std::min(per_candidate_, limit_))
    return better(objective, id, worst_same->objective, worst_same->id);
  return entries_.size() < limit_ ||
         better(objective, id, entries_.back().objective, entries_.back().id);
}

std::vector<std::string> TrialPool::insert(PoolEntry e) {
  const size_t cand = e.cand;
  auto pos = std::find_if(entries_.begin(), entries_.end(), [&](const PoolEntry& p) {
    return better(e.objective, e.id, p.objective, p.id);
  });
  entries_.insert(pos, std::move(e));
  std::vector<std::string> evicted;
  size_t same = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->cand == cand && ++same > per_candidate_) {
      evicted.push_back(it->name);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  while (entries_.size() > limit_) {
    evicted.push_back(entries_.back().name);
    entries_.pop_back();
  }
  return evicted;
}

}  // namespace tabpilot
