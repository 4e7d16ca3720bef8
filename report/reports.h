// The job folder's human-readable reports (HTML with inline SVG, no network) and their JSON
// twins: data exploration, candidate definitions (+ notebook), model quality, explainability,
// and the job's index.html. All are regenerated from the job folder alone.
#pragma once
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace tabpilot {

struct ReportOptions {
  int kernel_shap_samples = 256;  // coalitions per explained row for Kernel SHAP
  int shap_rows = 200;            // validation/training rows explained for global importance
  int background_size = 16;       // k-means centres of training rows for Kernel SHAP
  uint64_t seed = 0;
  // Seconds Kernel SHAP may take (0 = no limit): a probe on a few rows times it, and fewer
  // rows are explained when all of them would take longer (analysis.json says how many).
  double kernel_shap_budget_s = 0;
  // When the reports must be done (the end of `tabpilot fit --time-limit`): a report that
  // cannot start in time is skipped and index.html says so; Kernel SHAP explains fewer rows,
  // or none, to finish before it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // false: keep the data exploration report that is already there (fit writes it before
  // training and need not write it twice).
  bool data_exploration = true;
};

// Seconds left before options.deadline (infinity without one).
double report_seconds_left(const ReportOptions& options);

// data_exploration.html (from data_exploration.json and the training data); called before
// training starts.
void write_data_exploration_report(const std::filesystem::path& job_dir);

// Every report of a finished (or failed) job, index.html last. `tabpilot report DIR`.
void write_job_reports(const std::filesystem::path& job_dir, const ReportOptions& options = {});

}  // namespace tabpilot
