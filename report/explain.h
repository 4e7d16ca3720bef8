// Explanations of a job's model: which SHAP method to use, the rows to explain, and the
// local explanations `tabpilot explain DIR rows.csv` prints (CSV or JSON).
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tabpilot/report/reports.h"
#include "tabpilot/report/shap.h"

namespace tabpilot::report {

// method: "auto" (exact when every member has it, else Kernel SHAP), "kernel" or "exact"
// (an InputError when the model has no exact SHAP). Background from the training file.
ShapExplanation explain_table(const std::filesystem::path& job_dir, const Pipeline& p,
                              const Table& rows, const std::string& method,
                              const ReportOptions& options);

// Local explanations of the rows of `csv_path` (header, feature columns; others ignored).
// format "csv": row,output,expected_value,prediction,<feature>...; "json": an object with
// method, output_space, features and one entry per row and output. `summary` (if given)
// gets one line: the method used and what its values explain.
std::string explain_csv(const std::filesystem::path& job_dir, const std::string& csv_path,
                        const std::string& format, const std::string& method,
                        const ReportOptions& options, std::string* summary = nullptr);

// What the output space means, one sentence, for reports and the CLI.
std::string describe_output_space(const ShapExplanation& e);

}  // namespace tabpilot::report
