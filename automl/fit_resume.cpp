// Resuming a job that was killed (SIGKILL, power loss): the same `tabpilot fit` command finds
// the InProgress job folder, keeps every completed trial (the store is SQLite in WAL mode, so a
// kill never leaves it half-written), runs the trials that were running again, and counts the
// time already spent against the limit. Also the watcher thread that turns an outside cancel
// request (SIGTERM) into a stop and keeps the elapsed time in the store.
#include "tabpilot/automl/fit_job_internal.h"

namespace tabpilot::fit_detail {
namespace {

constexpr const char* kGivenConfigKey = "given_config";
constexpr const char* kElapsedKey = "elapsed_seconds";
constexpr const char* kCreationKey = "creation_time";

// What decides the job's results; callbacks, output and progress settings may differ.
nlohmann::json comparable(nlohmann::json c) {
  c.erase("threads");
  return c;
}

}  // namespace

bool FitJob::can_resume(const nlohmann::json& job) {
  if (job.value("AutoMLJobStatus", "") != "InProgress") return false;
  const fs::path store_path = job_dir_ / kStoreFile;
  if (!fs::exists(store_path)) return false;
  Store store(store_path.string());
  auto given = store.get_value(kGivenConfigKey);
  if (!given) return false;
  if (comparable(*given) != comparable(job_config_json(given_config_)))
    throw InputError(job_dir_.string() +
                     ": an unfinished job with this name was started with other settings (" +
                     "run the same command to resume it, or --force to start over)");
  return true;
}

void FitJob::open_resumed_store() {
  nlohmann::json job = read_json(job_dir_ / kJobFile);
  const std::string sha = job["tabpilot"].value("train_sha256", "");
  if (!sha.empty() && sha != train_sha256_)
    throw InputError(config_.train_path + ": the training file changed since job " + name_ +
                     " started; it cannot be resumed (use --force to start over)");
  store_ = std::make_unique<Store>((job_dir_ / kStoreFile).string());
  const int requeued = store_->requeue_running();
  prior_elapsed_ = store_->get_value(kElapsedKey).value_or(0.0).get<double>();
  // The job's clock starts where the killed run's stopped.
  start_ -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(prior_elapsed_));
  creation_time_ = store_->get_value(kCreationKey).value_or(unix_now() - prior_elapsed_).get<double>();
  status_ = "InProgress";
  secondary_ = "AnalyzingData";
  if (requeued > 0 && config_.progress)
    log::info("resume: " + std::to_string(requeued) + " trial(s) were running when the job stopped");
  write_job_json();
}

void FitJob::start_watcher() {
  if (!store_->get_value(kGivenConfigKey)) {
    store_->put_value(kGivenConfigKey, job_config_json(given_config_));
    store_->put_value(kCreationKey, creation_time_);
  }
  watcher_done_ = false;
  watcher_ = std::thread([this] {
    int tick = 0;
    while (!watcher_done_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (config_.cancel && config_.cancel->load() && !stopped_) {
        stopped_ = true;
        cancel_ = true;
        if (config_.progress) log::info("stop requested: keeping the best model so far");
      }
      // The elapsed time, once a second: what a resumed run counts as already spent.
      if (++tick % 50 == 0) {
        try {
          store_->put_value(kElapsedKey,
                            std::chrono::duration<double>(Clock::now() - start_).count());
        } catch (const std::exception&) {
          // A busy or full disk must not stop the job; the next tick tries again.
        }
      }
    }
  });
}

void FitJob::stop_watcher() {
  watcher_done_ = true;
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace tabpilot::fit_detail
