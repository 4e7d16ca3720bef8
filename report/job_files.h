// Reading a job folder for the reports: its JSON documents, the training data it was fitted
// on, and where each report goes.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tabpilot/data/table.h"

namespace tabpilot::report {

inline constexpr const char* kDataExplorationHtml = "data_exploration.html";
inline constexpr const char* kDataExplorationDetails = "data_exploration_details.json";
inline constexpr const char* kCandidatesHtml = "candidate_definitions.html";
inline constexpr const char* kCandidatesNotebook = "candidate_definitions.ipynb";
inline constexpr const char* kModelQualityHtml = "model_quality.html";
inline constexpr const char* kModelQualityJson = "model_quality.json";
inline constexpr const char* kExplainabilityDir = "explainability";
inline constexpr const char* kIndexHtml = "index.html";

// The JSON file, or nullopt when absent; malformed JSON is an InputError naming the file.
std::optional<nlohmann::json> read_json_if_exists(const std::filesystem::path& file);
// The training file this job was fitted on: job.json's DataSource (absolute), else
// data_exploration.json's source (relative to the job's working directory); "" if unknown.
std::string training_path(const std::filesystem::path& job_dir);
// Target column name from data_exploration.json or job.json; "" if unknown.
std::string target_name(const std::filesystem::path& job_dir);

}  // namespace tabpilot::report
