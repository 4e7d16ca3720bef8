// `tabpilot train`, two modes:
//  - container mode (no --job): the SageMaker training entry point (sagemaker/train_entry.h),
//    reading <opt-ml>/input and writing <opt-ml>/model and <opt-ml>/output; SIGTERM stops the
//    search and keeps the best model so far;
//  - reproduce mode (--job DIR --trial NAME): re-runs one trial of a finished job
//    (automl/reproduce.h) and says whether its objective matches the recorded one.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "tabpilot/automl/reproduce.h"
#include "tabpilot/common/error.h"
#include "tabpilot/sagemaker/train_entry.h"
#include "tabpilot/sagemaker/training_env.h"

namespace tabpilot::app {
namespace {

// Set from the signal handler; lock-free, so storing to it there is safe.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }

struct TrainArgs {
  std::string opt_ml, work_dir, job, trial;
  int threads = 1;
  bool json = false;
};

int run_container(const TrainArgs& a) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sagemaker::TrainOptions o;
  o.opt_ml = sagemaker::opt_ml_root(a.opt_ml);
  o.work_dir = a.work_dir;
  o.cancel = &g_stop_requested;
  return sagemaker::run_training_job(o);
}

bool objectives_match(double a, double b) {
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

int run_reproduce(const TrainArgs& a) {
  const ReproducedTrial t = reproduce_trial(a.job, a.trial, a.threads);
  const bool match = t.recorded_objective && objectives_match(*t.recorded_objective, t.objective);
  if (a.json) {
    nlohmann::json j = {{"trial", t.trial},
                        {"candidate", t.candidate},
                        {"learner", t.learner},
                        {"objective_metric", t.objective_metric},
                        {"recorded_objective", nullptr},
                        {"objective", t.objective},
                        {"metrics", t.metrics},
                        {"seconds", t.seconds},
                        {"match", match}};
    if (t.recorded_objective) j["recorded_objective"] = *t.recorded_objective;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("trial:       %s (%s, %s)\n", t.trial.c_str(), t.candidate.c_str(),
                t.learner.c_str());
    std::printf("metric:      validation %s\n", t.objective_metric.c_str());
    if (t.recorded_objective)
      std::printf("recorded:    %.17g\n", *t.recorded_objective);
    else
      std::printf("recorded:    none (the trial did not complete)\n");
    std::printf("reproduced:  %.17g\n", t.objective);
    std::printf("match:       %s (to 1e-9 relative; %.1f s)\n", match ? "yes" : "NO", t.seconds);
  }
  return match ? 0 : kExitFailure;
}

}  // namespace

void add_train_command(CLI::App& app, Commands& out) {
  auto a = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand(
      "train",
      "SageMaker training entry point (no --job): reads <opt-ml>/input/config and the train "
      "channel, writes <opt-ml>/model and <opt-ml>/output.\n"
      "Reproduce mode (--job DIR --trial NAME): re-runs one trial of a finished job and checks "
      "its objective against the recorded one (exit 1 when they differ).");
  auto* container = train->add_option_group("container mode", "SageMaker `docker run IMAGE train`");
  container->add_option("--opt-ml", a->opt_ml,
                        "the /opt/ml root (default: $TABPILOT_OPT_ML, else /opt/ml)");
  container->add_option("--work-dir", a->work_dir,
                        "where the job folder is built (default: a temp folder, removed after)");
  auto* repro = train->add_option_group("reproduce mode", "re-run one trial of a job folder");
  auto* job = repro->add_option("--job", a->job, "job folder");
  auto* trial = repro->add_option("--trial", a->trial, "trial name (see `tabpilot trials`)");
  repro->add_option("--threads", a->threads, "CPU threads (0: the trial's own)")
      ->capture_default_str()->check(CLI::Range(0, kMaxThreads));
  repro->add_flag("--json", a->json, "print the result as JSON (without the predictions)");
  job->needs(trial);
  trial->needs(job);
  out.push_back({train, [a] {
                   if (!a->job.empty()) {
                     if (!a->opt_ml.empty() || !a->work_dir.empty())
                       throw InputError("train: --opt-ml/--work-dir belong to container mode, "
                                        "not to --job/--trial");
                     return run_reproduce(*a);
                   }
                   return run_container(*a);
                 }});
}

}  // namespace tabpilot::app
