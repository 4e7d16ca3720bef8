// Resuming a job that was killed (SIGKILL, power loss): the same `tabpilot fit` command finds
// the InProgress job folder, keeps every completed trial (the store never holds a half-written
// trial), runs again the trials whose owner is gone (their lease has lapsed: automl/lease.h),
// and counts the time already spent against the limit. A job whose trials are still leased to
// a live process is running elsewhere and is not touched. Also the watcher thread: an outside
// cancel request (SIGTERM) becomes a stop, the elapsed time goes to the store, and the leases
// of this process's trials are renewed.
#include "tabpilot/automl/fit_job_internal.h"
#include "tabpilot/automl/job_store_keys.h"
#include "tabpilot/automl/lease.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"

namespace tabpilot::fit_detail {
namespace {


// What decides the job's results; callbacks, output and progress settings may differ.
nlohmann::json comparable(nlohmann::json c) {
  c.erase("threads");
  return c;
}

}  // namespace

bool FitJob::can_resume(const nlohmann::json& job) {
  if (job.value("AutoMLJobStatus", "") != "InProgress") return false;
  if (config_.store.empty() && !fs::exists(job_dir_ / kStoreFile)) return false;
  auto store = open_store(config_.store, job_dir_, name_);
  auto given = store->get_value(job_keys::kGivenConfig);
  if (!given) return false;
  if (comparable(*given) != comparable(job_config_json(given_config_)))
    throw InputError(job_dir_.string() +
                     ": an unfinished job with this name was started with other settings (" +
                     "run the same command to resume it, or --force to start over)");
  const double now = unix_now();
  for (const auto& t : store->trials())
    if (t.state == TrialState::kRunning && lease_holds(t, now))
      throw InputError(job_dir_.string() + ": the job is running in another process (" +
                       t.owner + " holds trial " + t.name +
                       "); wait for it to end or stop it before running it again here");
  return true;
}

void FitJob::open_resumed_store() {
  nlohmann::json job = read_json(job_dir_ / kJobFile);
  const std::string sha = job["tabpilot"].value("train_sha256", "");
  if (!sha.empty() && sha != plan_.train_sha256)
    throw InputError(config_.train_path + ": the training file changed since job " + name_ +
                     " started; it cannot be resumed (use --force to start over)");
  store_ = open_store(config_.store, job_dir_, name_);
  prior_elapsed_ = store_->get_value(job_keys::kElapsed).value_or(0.0).get<double>();
  // The job's clock starts where the killed run's stopped.
  start_ -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(prior_elapsed_));
  creation_time_ = store_->get_value(job_keys::kCreationTime).value_or(unix_now() - prior_elapsed_).get<double>();
  status_ = JobStatus::kInProgress;
  secondary_ = "AnalyzingData";
  write_job_json();
}

int FitJob::requeue_abandoned() {
  const int requeued = requeue_lapsed(*store_, unix_now());
  int kept = 0;
  if (!tuning_)
    for (const auto& t : store_->trials())
      if (is_finished(t.state) && t.learner != kEnsembleCandidate) ++kept;
  if (!tuning_ && config_.progress)  // at resume, before tuning
    log::info("resuming: " + std::to_string(kept) + " trial(s) kept, " +
              std::to_string(requeued) + " to run again, " +
              std::to_string(static_cast<int>(prior_elapsed_)) + " s already spent");
  else if (requeued > 0 && config_.progress)
    log::info(std::to_string(requeued) + " trial(s) lost their worker; they run again");
  return requeued;
}

void FitJob::load_pool() {
  const size_t values = plan_.valid_rows.size() * static_cast<size_t>(plan_.num_classes());
  pool_ = TrialPool(plan_.large ? 1 : kPoolSize, kPoolPerCandidate,
                    higher_is_better(plan_.objective));
  std::vector<TrialRecord> done;
  for (auto& t : store_->trials())
    if (t.state == TrialState::kComplete && t.objective && t.learner != kEnsembleCandidate)
      done.push_back(std::move(t));
  std::sort(done.begin(), done.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    return pool_.better(*a.objective, a.id, *b.objective, b.id);
  });
  for (const auto& t : done) {
    if (pool_.entries().size() >= pool_.limit()) break;
    const int cand = plan_.candidate_index(t.candidate);
    if (cand < 0 || !pool_.admits(static_cast<size_t>(cand), *t.objective, t.id)) continue;
    try {
      PoolEntry e = pool_entry_from_store(*store_, t.name, values);
      e.id = t.id;
      e.name = t.name;
      e.cand = static_cast<size_t>(cand);
      e.objective = *t.objective;
      e.params = t.params;
      e.seed = plan_.trial_seed(t.index);
      pool_.insert(std::move(e));
    } catch (const std::exception& ex) {
      log::warn("the saved model of trial " + t.name + " is not usable (" + ex.what() +
                "); it stays in the leaderboard but not in the ensemble pool");
    }
  }
}

void FitJob::start_watcher() {
  if (!store_->get_value(job_keys::kGivenConfig)) {
    store_->put_value(job_keys::kGivenConfig, job_config_json(given_config_));
    store_->put_value(job_keys::kCreationTime, creation_time_);
  }
  watcher_done_ = false;
  watcher_ = std::thread([this] {
    const std::string owner = this_worker().str();
    int tick = 0;
    const int heartbeat_ticks = static_cast<int>(kHeartbeatSeconds * 50);
    while (!watcher_done_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (config_.cancel && config_.cancel->load() && !stopped_) {
        stopped_ = true;
        cancel_ = true;
        if (config_.progress) log::info("stop requested: keeping the best model so far");
      }
      ++tick;
      try {
        // The elapsed time, once a second: what a resumed run counts as already spent.
        if (tick % 50 == 0)
          store_->put_value(job_keys::kElapsed,
                            std::chrono::duration<double>(Clock::now() - start_).count());
        if (tick % heartbeat_ticks == 0) {
          store_->heartbeat(owner);
          if (tuning_) requeue_abandoned();  // a worker elsewhere may have died mid-trial
        }
      } catch (const std::exception&) {
        // A busy or full disk must not stop the job; the next tick tries again.
      }
    }
  });
}

void FitJob::stop_watcher() {
  watcher_done_ = true;
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace tabpilot::fit_detail
