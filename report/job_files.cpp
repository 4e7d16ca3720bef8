#include "tabpilot/report/job_files.h"

#include <fstream>
#include <sstream>

#include "tabpilot/common/error.h"

namespace tabpilot::report {
namespace fs = std::filesystem;

std::optional<nlohmann::json> read_json_if_exists(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
}

std::string training_path(const fs::path& job_dir) {
  if (auto job = read_json_if_exists(job_dir / "job.json")) {
    if (job->contains("InputDataConfig") && !(*job)["InputDataConfig"].empty()) {
      const auto& c = (*job)["InputDataConfig"][0];
      if (c.contains("DataSource") && c["DataSource"].is_string()) return c["DataSource"];
    }
    if (job->contains("tabpilot") && (*job)["tabpilot"].contains("train_path"))
      return (*job)["tabpilot"]["train_path"];
  }
  if (auto de = read_json_if_exists(job_dir / "data_exploration.json"))
    if (de->contains("source") && (*de)["source"].is_string()) return (*de)["source"];
  return "";
}

std::string target_name(const fs::path& job_dir) {
  if (auto de = read_json_if_exists(job_dir / "data_exploration.json"))
    if (de->contains("target") && (*de)["target"].contains("name")) return (*de)["target"]["name"];
  if (auto job = read_json_if_exists(job_dir / "job.json"))
    if (job->contains("InputDataConfig") && !(*job)["InputDataConfig"].empty())
      return (*job)["InputDataConfig"][0].value("TargetAttributeName", "");
  return "";
}

}  // namespace tabpilot::report
