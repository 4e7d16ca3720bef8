// `tabpilot monitor baseline|check`: Model Monitor-compatible baselines and drift checks for
// a job (monitor/monitor.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "tabpilot/monitor/monitor.h"

namespace tabpilot::app {
namespace {

struct MonitorArgs {
  std::string job, data, output, capture, baseline;
};

int run_baseline_cmd(const MonitorArgs& a) {
  const auto r = monitor::run_baseline(a.job, a.data, a.output);
  std::printf("monitor baseline: %zu feature columns over %zu rows -> %s (%s, %s)\n", r.features,
              r.rows, r.output_dir.c_str(), monitor::kStatisticsFile, monitor::kConstraintsFile);
  return 0;
}

int run_check_cmd(const MonitorArgs& a) {
  monitor::CheckInput in;
  in.capture_dir = a.capture;
  in.data_csv = a.data;
  in.baseline_dir = a.baseline;
  in.output_dir = a.output;
  const auto r = monitor::run_check(a.job, in);
  std::string types;
  for (const auto& [type, n] : r.execution["ViolationsByCheckType"].items())
    types += (types.empty() ? "" : ", ") + type + ": " + std::to_string(n.get<int>());
  std::string bad;
  if (!a.capture.empty()) {
    bad = " from " + std::to_string(r.records) + " capture records";
    if (r.bad_records > 0)
      bad += " (" + std::to_string(r.bad_records) + " bad, first: " + r.first_bad + ")";
  }
  std::printf("monitor check: %s: %zu violations%s over %zu rows%s -> %s\n", r.status.c_str(),
              r.violations.size(), types.empty() ? "" : (" (" + types + ")").c_str(), r.rows,
              bad.c_str(), r.output_dir.c_str());
  return 0;
}

}  // namespace

void add_monitor_command(CLI::App& app, Commands& out) {
  auto args = std::make_shared<MonitorArgs>();
  auto* mon = app.add_subcommand("monitor", "Model Monitor-style baseline and drift checks");
  mon->require_subcommand(1);

  auto* base = mon->add_subcommand(
      "baseline", "statistics.json + constraints.json of the job's training data (feature columns)");
  base->add_option("job", args->job, "job folder")->required();
  base->add_option("--data", args->data, "CSV with a header to baseline instead of the training file");
  base->add_option("--output,-o", args->output, "output folder (default: JOB/monitoring)");
  out.push_back({base, [args] { return run_baseline_cmd(*args); }});

  auto* check = mon->add_subcommand(
      "check", "compare captured requests (or a CSV) with the baseline: constraint_violations.json");
  check->add_option("job", args->job, "job folder")->required();
  check->add_option("capture", args->capture, "data capture folder (*.jsonl, searched recursively)");
  check->add_option("--data", args->data, "CSV with a header instead of a capture folder");
  check->add_option("--baseline", args->baseline, "baseline folder (default: JOB/monitoring)");
  check->add_option("--output,-o", args->output,
                    "output folder (default: JOB/monitoring/check-<UTC time>)");
  out.push_back({check, [args] { return run_check_cmd(*args); }});
}

}  // namespace tabpilot::app
