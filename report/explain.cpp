#include "tabpilot/report/explain.h"

#include <cstdio>

#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/report/job_files.h"

namespace tabpilot::report {
namespace fs = std::filesystem;

ShapExplanation explain_table(const fs::path& job_dir, const Pipeline& p, const Table& rows,
                              const std::string& method, const ReportOptions& options) {
  if (method != "auto" && method != "kernel" && method != "exact")
    throw InputError("--method must be auto, kernel or exact, got '" + method + "'");
  const bool exact = has_exact_shap(p);
  if (method == "exact" && !exact)
    throw InputError("--method exact: this model has no exact SHAP (only single XGBoost or "
                     "linear models, or regression averages of them); use --method kernel");
  if (exact && method != "kernel") return exact_shap(p, rows);
  const std::string train = training_path(job_dir);
  if (train.empty() || !fs::exists(train))
    throw InputError("the training file of " + job_dir.string() + " (" + train +
                     ") is needed for the Kernel SHAP background and is not readable");
  const Table t = read_csv(train, p.csv_options());
  std::vector<double> weights;
  const Table background = kmeans_background(p, t, options.background_size, options.seed, weights);
  return kernel_shap(p, rows, background, weights,
                     {options.kernel_shap_samples, options.background_size, options.seed, {}});
}

std::string describe_output_space(const ShapExplanation& e) {
  if (e.output_space == "value") return "the predicted value";
  if (e.output_space == "probability") return "the predicted probability of each named class";
  if (e.output_space == "log_odds")
    return "the log-odds (margin) of the positive class, before the sigmoid";
  return "each class's margin (softmax input)";
}

std::string explain_csv(const fs::path& job_dir, const std::string& csv_path,
                        const std::string& format, const std::string& method,
                        const ReportOptions& options, std::string* summary) {
  if (format != "csv" && format != "json")
    throw InputError("--format must be csv or json, got '" + format + "'");
  const Pipeline p = Pipeline::load(job_dir / "model");
  const Table rows = read_csv(csv_path, p.csv_options());
  for (const auto& f : p.features)
    if (rows.find(f) < 0) throw InputError(csv_path + ": feature column '" + f + "' is missing");
  const ShapExplanation e = explain_table(job_dir, p, rows, method, options);
  const size_t no = e.outputs.size(), m = e.features.size();
  if (summary)
    *summary = e.method + " on " + std::to_string(e.rows) + " rows; the values explain " +
               describe_output_space(e) + " (expected_value + sum = prediction)";
  if (format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (size_t r = 0; r < e.rows; ++r)
      for (size_t o = 0; o < no; ++o) {
        nlohmann::json vals = nlohmann::json::object();
        for (size_t f = 0; f < m; ++f) vals[e.features[f]] = e.value(r, o, f);
        list.push_back({{"row", r}, {"output", e.outputs[o]},
                        {"expected_value", e.expected[r * no + o]},
                        {"prediction", e.prediction[r * no + o]}, {"shap_values", vals}});
      }
    return nlohmann::json({{"method", e.method}, {"output_space", e.output_space},
                           {"explains", describe_output_space(e)}, {"features", e.features},
                           {"explanations", list}})
               .dump(2) +
           "\n";
  }
  std::string out;
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return std::string(buf);
  };
  out = "row,output,expected_value,prediction";
  for (const auto& f : e.features) {
    out += ',';
    append_csv_field(out, f);
  }
  out += '\n';
  for (size_t r = 0; r < e.rows; ++r)
    for (size_t o = 0; o < no; ++o) {
      out += std::to_string(r) + ",";
      append_csv_field(out, e.outputs[o]);
      out += "," + num(e.expected[r * no + o]) + "," + num(e.prediction[r * no + o]);
      for (size_t f = 0; f < m; ++f) out += "," + num(e.value(r, o, f));
      out += '\n';
    }
  return out;
}

}  // namespace tabpilot::report
