// The individual reports that write_job_reports puts in a job folder (one file each).
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tabpilot/automl/validation_predictions.h"
#include "tabpilot/report/reports.h"

namespace tabpilot::report {

struct ReportStatus {
  std::vector<std::string> written;
  std::vector<std::pair<std::string, std::string>> failed;  // report, why
};

// candidate_definitions.html + candidate_definitions.ipynb (candidate_reports.cpp).
void write_candidate_reports(const std::filesystem::path& job_dir);
// model_quality.html + model_quality.json (model_quality_report.cpp).
void write_model_quality_report(const std::filesystem::path& job_dir, const ReportOptions& options);
// explainability/analysis.json + explainability.html (explainability_report.cpp).
void write_explainability_report(const std::filesystem::path& job_dir, const ReportOptions& options);
// index.html (index_report.cpp).
void write_index(const std::filesystem::path& job_dir, const ReportStatus& status);

// The best candidate's validation predictions: validation_predictions.csv when the job wrote
// it, else re-run the best trial (reproduce_trial). `source` says which.
ValidationPredictions best_validation_predictions(const std::filesystem::path& job_dir,
                                                  std::string& source);

}  // namespace tabpilot::report
