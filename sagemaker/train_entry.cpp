#include "tabpilot/sagemaker/train_entry.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_location.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/report/reports.h"
#include "tabpilot/sagemaker/trial_metrics.h"
#include "tabpilot/sagemaker/training_env.h"

namespace fs = std::filesystem;

namespace tabpilot::sagemaker {

void write_failure(const fs::path& opt_ml, const std::string& reason) {
  std::error_code ec;
  if (!fs::is_directory(opt_ml, ec)) return;  // not in a container: stderr says it all
  try {
    fs::create_directories(opt_ml / "output");
    write_file_atomic(opt_ml / "output" / "failure", reason + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tabpilot: could not write %s: %s\n",
                 (opt_ml / "output" / "failure").c_str(), e.what());
  }
}

namespace {

// Replaces the contents of `to` with the regular files (and folders) of `from`.
void copy_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from))
    fs::copy(e.path(), to / e.path().filename(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

// The job folder's reports and summaries (job.json, data_exploration.json, trials.csv,
// *.html, *.ipynb, ...) into output/data; the model and the store stay out.
size_t copy_reports(const fs::path& job_dir, const fs::path& out) {
  fs::create_directories(out);
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(job_dir)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = e.path().extension().string();
    if (ext != ".json" && ext != ".html" && ext != ".csv" && ext != ".ipynb" && ext != ".svg")
      continue;
    fs::copy_file(e.path(), out / e.path().filename(), fs::copy_options::overwrite_existing);
    ++n;
  }
  return n;
}

std::string job_name(const JobConfig& c) {
  if (!c.name.empty()) return c.name;
  if (const char* env = std::getenv("TRAINING_JOB_NAME"); env && *env) {
    check_job_name(env, "TRAINING_JOB_NAME");
    return env;
  }
  return "tabpilot-training";
}

int train(const TrainOptions& o) {
  const TrainingEnv env = read_training_env(o.opt_ml);
  JobConfig config = env.config;
  config.name = job_name(config);  // a bad TRAINING_JOB_NAME is refused before any output
  // A failure file from an earlier run must not outlive this one (SageMaker reads it as the
  // reason this job failed).
  std::error_code ec;
  if (fs::is_regular_file(fs::symlink_status(o.opt_ml / "output" / "failure", ec)))
    fs::remove(o.opt_ml / "output" / "failure", ec);
  log::info("training on host " + env.current_host + " (hosts: " + std::to_string(env.hosts.size()) +
            "); channel '" + env.train_channel + "' with " + std::to_string(env.train_files.size()) +
            " file(s)");
  const bool temp_work = o.work_dir.empty();
  fs::path work = o.work_dir;
  if (temp_work) {
    // mkdtemp: a new folder of our own, never one that somebody placed there (or a link).
    std::string pattern = (fs::temp_directory_path() / "tabpilot-train-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error("cannot create a work folder under " +
                               fs::temp_directory_path().string());
    work = pattern;
  } else {
    create_output_folder(work, "--work-dir");
  }
  // A temporary work folder goes whatever happens; its useful files are copied out first.
  struct RemoveWork {
    fs::path dir;
    ~RemoveWork() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } remove_work{temp_work ? work : fs::path()};
  config.train_path = combine_csv_files(env.train_files, work / "train.csv").string();
  config.output_dir = (work / "jobs").string();
  config.overwrite = true;
  config.cancel = o.cancel;
  const fs::path job_dir = fs::path(config.output_dir) / config.name;

  JobResult r;
  {
    TrialMetricsPrinter metrics(job_dir, o.metric_poll_ms);
    r = run_fit(config);
    metrics.stop();
  }
  const fs::path out_data = o.opt_ml / "output" / "data";
  // "Stopped" (SIGTERM) still wrote the best model so far: a success for SageMaker.
  if (r.status != JobStatus::kCompleted && r.status != JobStatus::kStopped) {
    if (fs::exists(job_dir)) copy_reports(job_dir, out_data);
    write_failure(o.opt_ml, "AutoML job failed: " + r.failure_reason);
    std::fprintf(stderr, "tabpilot: job failed: %s\n", r.failure_reason.c_str());
    return 1;
  }
  if (r.best_objective) {
    const nlohmann::json job = describe_job(r.job_dir);
    const std::string metric = job.value("AutoMLJobObjective", nlohmann::json::object())
                                   .value("MetricName", "objective");
    char value[40];
    std::snprintf(value, sizeof value, "%.10g", *r.best_objective);
    print_metric_line("final best:" + metric + "=" + value + "; candidate=" + r.best_candidate +
                      ";");
  }
  try {
    write_job_reports(job_dir);
  } catch (const std::exception& e) {
    log::warn(std::string("reports were not written: ") + e.what());
  }
  copy_tree(job_dir / "model", o.opt_ml / "model");
  const size_t copied = copy_reports(job_dir, out_data);
  log::info("model -> " + (o.opt_ml / "model").string() + "; " + std::to_string(copied) +
            " report files -> " + out_data.string() +
            (o.cancel && o.cancel->load() ? " (stopped early by SIGTERM: best model so far)" : ""));
  return 0;
}

}  // namespace

int run_training_job(const TrainOptions& o) {
  try {
    return train(o);
  } catch (const InputError& e) {
    write_failure(o.opt_ml, std::string("ClientError: ") + e.what());
    std::fprintf(stderr, "tabpilot: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    write_failure(o.opt_ml, std::string("AlgorithmError: ") + e.what());
    std::fprintf(stderr, "tabpilot: internal error: %s\n", e.what());
    return 1;
  }
}

}  // namespace tabpilot::sagemaker
