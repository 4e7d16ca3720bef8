// write_job_reports: every report of a job folder, index.html last. Each report is written
// on its own; one that fails (e.g. the training file is gone) is recorded and the index says
// why, so a partial set of reports is still useful.
#include "tabpilot/report/reports.h"

#include <cstdio>
#include <limits>

#include "tabpilot/report/report_parts.h"

namespace tabpilot {

namespace {

// What index.html needs to be written after the others.
constexpr double kIndexSeconds = 0.2;

}  // namespace

double report_seconds_left(const ReportOptions& options) {
  if (!options.deadline) return std::numeric_limits<double>::infinity();
  return std::chrono::duration<double>(*options.deadline - std::chrono::steady_clock::now())
      .count();
}

void write_job_reports(const std::filesystem::path& job_dir, const ReportOptions& options) {
  report::ReportStatus status;
  // A report starts only with time left for it (`need` seconds) and for index.html.
  auto attempt = [&](const std::string& name, double need, auto&& fn) {
    const double left = report_seconds_left(options) - kIndexSeconds;
    if (left < need) {
      char why[160];
      std::snprintf(why, sizeof why,
                    "not written: the time limit left %.1f s (run `tabpilot report` on the job "
                    "folder to write it)",
                    std::max(0.0, left));
      status.failed.push_back({name, why});
      return;
    }
    try {
      fn();
      status.written.push_back(name);
    } catch (const std::exception& e) {
      status.failed.push_back({name, e.what()});
    }
  };
  if (options.data_exploration)
    attempt("data_exploration", 0.5, [&] { write_data_exploration_report(job_dir); });
  attempt("candidate_definitions", 0.1, [&] { report::write_candidate_reports(job_dir); });
  if (std::filesystem::exists(job_dir / "model" / "model.json")) {
    attempt("model_quality", 0.2, [&] { report::write_model_quality_report(job_dir, options); });
    ReportOptions explain = options;
    if (options.deadline) explain.deadline = *options.deadline - std::chrono::milliseconds(200);
    attempt("explainability", 0.3, [&] { report::write_explainability_report(job_dir, explain); });
  }
  report::write_index(job_dir, status);
}

}  // namespace tabpilot
