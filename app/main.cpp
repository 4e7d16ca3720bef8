// The `tabpilot` command line: parses arguments and calls the library. Exit codes: 0 success,
// 1 internal failure, 2 bad input or usage (one line on stderr saying what and where).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_location.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/common/version.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/trainer/learner.h"
#include "tabpilot/report/reports.h"

using namespace tabpilot;
using tabpilot::app::kExitBadInput;
using tabpilot::app::kExitFailure;

namespace {

// --max-candidates when only --time-limit is given (see main).
constexpr int kTimeLimitedMaxCandidates = 2000;

std::atomic<bool> g_stop_requested{false};

extern "C" void request_stop(int) { g_stop_requested.store(true); }

// When the command started: --time-limit bounds everything from here, reports included.
const auto g_command_start = std::chrono::steady_clock::now();

int cmd_fit(JobConfig config) {
  config.time_limit_s = checked_time_limit(config.time_limit_s, "--time-limit");
  // Ctrl-C / SIGTERM: tuning stops, the best model so far is written, the job ends Stopped.
  config.cancel = &g_stop_requested;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  config.on_analysis_written = [](const std::string& dir) { write_data_exploration_report(dir); };
  // The reports after the job take a second or two on small data: keep 5% of the limit
  // (1 to 20 s, at most a fifth of it) for them, so that `--time-limit` bounds the whole command.
  config.reserve_after_s =
      std::min(0.2 * config.time_limit_s, std::clamp(0.05 * config.time_limit_s, 1.0, 20.0));
  JobResult r = run_fit(config);
  try {
    // Lighter Kernel SHAP than `tabpilot report` (8x fewer model evaluations), so the reports
    // add a second or two to the job; `tabpilot report DIR` recomputes them in full.
    ReportOptions quick;
    quick.kernel_shap_samples = 128;
    quick.shap_rows = 100;
    quick.background_size = 8;
    quick.seed = config.seed;
    quick.kernel_shap_budget_s = std::max(0.5, 0.5 * config.reserve_after_s);
    quick.deadline = g_command_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                           std::chrono::duration<double>(config.time_limit_s));
    // Written before training (on_analysis_written); a second copy would cost the same again.
    quick.data_exploration = !std::filesystem::exists(std::filesystem::path(r.job_dir) /
                                                      "data_exploration.html");
    write_job_reports(r.job_dir, quick);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tabpilot: warning: reports not written: %s\n", e.what());
  }
  if (r.status != JobStatus::kCompleted && r.status != JobStatus::kStopped) {
    std::fprintf(stderr, "tabpilot: job failed: %s (see %s/job.json)\n", r.failure_reason.c_str(),
                 r.job_dir.c_str());
    return kExitFailure;
  }
  std::printf("job %s %s: best candidate %s, validation objective %.6g\n", r.job_dir.c_str(),
              r.status == JobStatus::kStopped ? "stopped early" : "completed", r.best_candidate.c_str(),
              r.best_objective.value_or(0.0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tabpilot: AutoML for tabular data (CSV + target column -> tuned model)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    std::string v = std::string("tabpilot ") + kTabpilotVersion + "\n" + describe_compute();
    for (const auto& r : learner_runtimes(learner_names())) v += "\n" + r;
    return v;
  });

  JobConfig config;
  std::string problem_type = "auto";
  bool quiet = false;
  auto* fit = app.add_subcommand("fit", "run an AutoML job on a CSV file");
  fit->add_option("train", config.train_path, "training CSV (header row required)")->required();
  fit->add_option("--target,-t", config.target, "target column name")->required();
  fit->add_option("--output,-o", config.output_dir, "folder that holds job folders")->capture_default_str();
  auto* name = fit->add_option("--name,-n", config.name,
                               "job name: letters, digits, '-', '_', '.' (default: "
                               "<file>-<timestamp>)");
  fit->add_option("--problem-type", problem_type, "auto|regression|binary|multiclass")->capture_default_str();
  fit->add_option("--objective", config.objective,
                  "MSE|RMSE|MAE|R2 | F1|Accuracy|AUC|BalancedAccuracy|Precision|Recall|LogLoss | "
                  "F1macro|PrecisionMacro|RecallMacro (default: MSE, F1, Accuracy)");
  auto* max_candidates = fit->add_option(
      "--max-candidates", config.max_candidates,
      "maximum number of trials (default 250, Autopilot's; with --time-limit, 2000: the time "
      "limit ends the job)");
  auto* time_limit = fit->add_option("--time-limit", config.time_limit_s,
                                     "wall-clock limit for the whole command, seconds (hard; "
                                     "inf: none)")
                         ->capture_default_str();
  fit->add_option("--trial-time-limit", config.trial_time_limit_s,
                  "limit per trial, seconds (default: a third of --time-limit; inf: none)");
  fit->add_option("--seed", config.seed, "random seed")->capture_default_str();
  fit->add_option("--threads", config.threads, "CPU threads to use (default: all cores)")
      ->check(CLI::Range(0, app::kMaxThreads));
  std::string cv_folds = "auto";
  fit->add_option("--cv-folds", cv_folds,
                  "k-fold cross-validation: auto (5 folds up to 10,000 rows, else hold-out), 0 "
                  "(hold-out) or 2..20")->capture_default_str();
  fit->add_flag("--no-refit", [&](int64_t) { config.refit = false; },
                "hold-out only: keep the best trial's model instead of refitting it on all rows");
  fit->add_option("--validation-fraction", config.validation_fraction, "hold-out fraction")->capture_default_str();
  std::vector<std::string> column_types;
  fit->add_option("--column-type", column_types,
                  "NAME=TYPE: read column NAME as numeric, categorical, text, datetime or id "
                  "(not a feature) instead of the inferred type; repeat for more columns");
  fit->add_option("--learners", config.learners,
                  "restrict to these learners (xgboost, linear, mlp, random_forest)")
      ->delimiter(',');
  fit->add_flag("--quiet,-q", quiet, "no progress output");
  fit->add_option("--gpu-mlp-batch", config.gpu_mlp_batch,
                  "MLP trials trained together as one batch on a GPU slot")
      ->capture_default_str()->check(CLI::Range(1, 256));
  std::string device = "auto";
  fit->add_option("--device", device,
                  "where trials run: auto (every core + every visible GPU), cpu, or gpu (GPU "
                  "slots only)")->capture_default_str();
  fit->add_flag("--force", config.overwrite, "replace an existing job folder of the same name");
  fit->add_option("--sampler", config.sampler, "tpe (Bayesian) or random")->capture_default_str();
  fit->add_flag("--no-prune", [&](int64_t) { config.prune = false; },
                "never stop a trial early (asynchronous successive halving is on by default)");
  fit->add_flag("--no-threshold", [&](int64_t) { config.tune_threshold = false; },
                "binary: keep the 0.5 decision threshold (default: tuned on the validation "
                "predictions for F1, Accuracy and BalancedAccuracy)");
  fit->add_option("--slots-per-gpu", config.slots_per_gpu, "concurrent trials per visible GPU")
      ->capture_default_str()->check(CLI::Range(1, 64));
  fit->add_option("--ensemble-rounds", config.ensemble_rounds,
                  "greedy ensemble selection over the best trials (0: the best single trial)")
      ->capture_default_str()->check(CLI::Range(0, 10000));
  fit->add_option("--ensemble-metric", config.ensemble_metric,
                  "what ensemble selection climbs: auto (log loss for F1/accuracy-like "
                  "objectives, else the objective) or objective")
      ->capture_default_str();

  std::string job_dir;
  auto* describe = app.add_subcommand("describe", "print job.json (DescribeAutoMLJob-like)");
  describe->add_option("job", job_dir, "job folder")->required();

  std::string sort_key, format = "table";
  size_t top = 0;
  auto* trials = app.add_subcommand("trials", "print the leaderboard");
  trials->add_option("job", job_dir, "job folder")->required();
  trials->add_option("--top", top, "only the best N")->check(CLI::NonNegativeNumber);
  trials->add_option("--sort", sort_key, "validation:<metric>, train:<metric>, duration, name or id");
  trials->add_option("--format", format, "table|csv|json")->capture_default_str();

  std::string input, output = "-";
  auto* predict = app.add_subcommand("predict", "batch transform: predictions for a CSV file");
  predict->add_option("job", job_dir, "job folder (or its model/ folder)")->required();
  predict->add_option("input", input, "CSV with the feature columns (target optional)")->required();
  predict->add_option("-o,--output", output, "output CSV (default: stdout)");

  app::Commands commands;
  app::add_train_command(app, commands);
  app::add_serve_command(app, commands);
  app::add_monitor_command(app, commands);
  app::add_report_commands(app, commands);

  std::string known;
  bool is_command = argc < 2 || argv[1][0] == '-';
  for (const auto* sub : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
    is_command = is_command || sub->get_name() == argv[1];
  }
  if (!is_command) {
    std::fprintf(stderr, "tabpilot: unknown command '%s' (commands: %s; see --help)\n", argv[1],
                 known.c_str());
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "tabpilot: %s (see --help)\n", e.what());
    return kExitBadInput;
  }

  try {
    if (*fit) {
      if (quiet) log::set_level(log::Level::kQuiet);
      if (name->count() > 0) check_job_name(config.name);  // an explicit --name "" too
      config.progress = !quiet;
      if (problem_type != "auto") config.problem_type = task_from_string(problem_type);
      config.device = device_mode_from_string(device);
      for (const auto& spec : column_types) {
        const size_t eq = spec.rfind('=');
        if (eq == std::string::npos || eq == 0)
          throw InputError("--column-type '" + spec + "': expected NAME=TYPE (numeric, "
                           "categorical, text, datetime or id)");
        try {
          config.column_types[spec.substr(0, eq)] = column_type_from_string(spec.substr(eq + 1));
        } catch (const InputError& e) {
          throw InputError("--column-type '" + spec + "': " + e.what());
        }
      }
      // A budget given alone should be used: with Autopilot's 250-trial cap, 300 s jobs ended
      // after 62 s on average in the suite (bench/RESULTS.md). 2000 still bounds the store
      // and the reports on tiny data, where trials take milliseconds.
      if (time_limit->count() > 0 && max_candidates->count() == 0)
        config.max_candidates = kTimeLimitedMaxCandidates;
      if (cv_folds != "auto") {
        try {
          size_t used = 0;
          config.cv_folds = std::stoi(cv_folds, &used);
          if (used != cv_folds.size()) throw std::invalid_argument(cv_folds);
        } catch (const std::exception&) {
          throw InputError("--cv-folds: expected auto or a whole number, got '" + cv_folds + "'");
        }
      }
      return cmd_fit(config);
    }
    if (*describe) {
      std::cout << describe_job(job_dir).dump(2) << "\n";
      return 0;
    }
    if (*trials) {
      std::cout << format_trials(list_trials(job_dir, sort_key, top), format);
      return 0;
    }
    if (*predict) {
      predict_csv(job_dir, input, output);
      return 0;
    }
    for (const auto& c : commands)
      if (c.sub && c.sub->parsed()) return c.run();
  } catch (const InputError& e) {
    std::fprintf(stderr, "tabpilot: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tabpilot: internal error: %s\n", e.what());
    return kExitFailure;
  }
  return 0;
}
