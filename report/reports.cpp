// write_job_reports: every report of a job folder, index.html last. Each report is written
// on its own; one that fails (e.g. the training file is gone) is recorded and the index says
// why, so a partial set of reports is still useful.
#include "tabpilot/report/reports.h"

#include "tabpilot/report/report_parts.h"

namespace tabpilot {

void write_job_reports(const std::filesystem::path& job_dir, const ReportOptions& options) {
  report::ReportStatus status;
  auto attempt = [&](const std::string& name, auto&& fn) {
    try {
      fn();
      status.written.push_back(name);
    } catch (const std::exception& e) {
      status.failed.push_back({name, e.what()});
    }
  };
  attempt("data_exploration", [&] { write_data_exploration_report(job_dir); });
  attempt("candidate_definitions", [&] { report::write_candidate_reports(job_dir); });
  if (std::filesystem::exists(job_dir / "model" / "model.json")) {
    attempt("model_quality", [&] { report::write_model_quality_report(job_dir, options); });
    attempt("explainability", [&] { report::write_explainability_report(job_dir, options); });
  }
  report::write_index(job_dir, status);
}

}  // namespace tabpilot
