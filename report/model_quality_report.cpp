// model_quality.html + model_quality.json of the best candidate (contract 2.4), from its
// validation predictions.
#include <chrono>
#include <filesystem>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/automl/reproduce.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/report/job_files.h"
#include "tabpilot/report/model_quality.h"
#include "tabpilot/report/report_parts.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot::report {
namespace fs = std::filesystem;

namespace {
std::string best_candidate_name(const nlohmann::json& job) {
  if (!job.contains("BestCandidate"))
    throw InputError("job.json has no BestCandidate (no candidate completed)");
  return job["BestCandidate"].value("CandidateName", "");
}
}  // namespace

ValidationPredictions best_validation_predictions(const fs::path& job_dir, std::string& source) {
  if (fs::exists(job_dir / kValidationPredictionsFile)) {
    source = kValidationPredictionsFile;
    return load_validation_predictions(job_dir / kValidationPredictionsFile);
  }
  const auto job = read_json_if_exists(job_dir / kJobFile).value_or(nlohmann::json::object());
  const std::string best = best_candidate_name(job);
  source = "re-run of trial " + best;
  return reproduce_trial(job_dir.string(), best).predictions;
}

void write_model_quality_report(const fs::path& job_dir, const ReportOptions& options) {
  const auto job = read_json_if_exists(job_dir / kJobFile).value_or(nlohmann::json::object());
  const auto t0 = std::chrono::steady_clock::now();
  std::string source;
  const ValidationPredictions v = best_validation_predictions(job_dir, source);
  nlohmann::json metrics = model_quality_metrics(v, options.seed);
  metrics["dataset"]["evaluation_time"] = iso_time(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  metrics["dataset"]["evaluation_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_json_atomic(job_dir / kModelQualityJson, metrics);

  const std::string objective =
      job.contains("AutoMLJobObjective") ? job["AutoMLJobObjective"].value("MetricName", "") : "";
  std::string direction;
  try {
    direction = higher_is_better(metric_from_string(objective, v.task)) ? "Maximize" : "Minimize";
  } catch (const std::exception&) {
    direction = "unknown";
  }
  nlohmann::json details = {
      {"candidate", job.contains("BestCandidate") ? best_candidate_name(job) : std::string("-")},
      {"job", job.value("AutoMLJobName", fs::absolute(job_dir).filename().string())},
      {"problem_type", std::string(to_string(v.task))},
      {"objective_metric", objective},
      {"direction", direction},
      {"rows_source", source}};
  write_file_atomic(job_dir / kModelQualityHtml, model_quality_html(v, metrics, details));
}

}  // namespace tabpilot::report
