// explainability/analysis.json in SageMaker Clarify's layout (contract 2.5) and
// explainability.html: global SHAP importance (mean |SHAP| per input column) of the best
// model. Kernel SHAP always (model-agnostic, on probabilities, as Autopilot/Clarify do); the
// exact method too when the model has one (TreeSHAP / linear, in margin space).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <numeric>
#include <random>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/report/explain.h"
#include "tabpilot/report/html.h"
#include "tabpilot/report/job_files.h"
#include "tabpilot/report/report_parts.h"
#include "tabpilot/report/svg.h"

namespace tabpilot::report {
namespace fs = std::filesystem;
namespace {

// Rows to explain: the best candidate's validation rows when the job kept them, else a random
// sample of training rows; at most `limit`.
std::vector<size_t> rows_to_explain(const fs::path& job_dir, size_t num_rows, size_t limit,
                                    uint64_t seed, std::string& which) {
  std::vector<size_t> rows;
  if (fs::exists(job_dir / kValidationPredictionsFile)) {
    rows = load_validation_predictions(job_dir / kValidationPredictionsFile).rows;
    rows.erase(std::remove_if(rows.begin(), rows.end(), [&](size_t r) { return r >= num_rows; }),
               rows.end());
    which = "validation rows";
  }
  if (rows.empty()) {
    rows.resize(num_rows);
    std::iota(rows.begin(), rows.end(), size_t{0});
    which = "training rows";
  }
  if (rows.size() > limit) {
    std::mt19937_64 rng(seed ^ 0x73686170ULL);
    std::shuffle(rows.begin(), rows.end(), rng);
    rows.resize(limit);
    std::sort(rows.begin(), rows.end());
  }
  return rows;
}

nlohmann::json clarify_block(const ShapExplanation& e) {
  nlohmann::json block = nlohmann::json::object();
  for (size_t o = 0; o < e.outputs.size(); ++o) {
    const std::vector<double> g = e.global_mean_abs(o);
    nlohmann::json values = nlohmann::json::object();
    for (size_t f = 0; f < g.size(); ++f) values[e.features[f]] = g[f];
    block["label" + std::to_string(o)] = {
        {"global_shap_values", values},
        {"expected_value", e.expected.empty() ? 0.0 : e.expected[o]}};
  }
  return block;
}

std::string importance_charts(const ShapExplanation& e, const std::string& title) {
  std::string out = "<div class=\"charts\">";
  const size_t shown_outputs = std::min<size_t>(e.outputs.size(), 10);
  for (size_t o = 0; o < shown_outputs; ++o) {
    const std::vector<double> g = e.global_mean_abs(o);
    std::vector<size_t> order(g.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return g[a] > g[b]; });
    if (order.size() > 20) order.resize(20);
    std::vector<std::string> labels;
    std::vector<double> values;
    for (size_t i : order) labels.push_back(e.features[i]), values.push_back(g[i]);
    svg::Axes ax{title + (e.outputs.size() > 1 || e.output_space != "value"
                              ? ": " + e.outputs[o]
                              : std::string()),
                 "mean |SHAP value|", ""};
    ax.width = 560;
    out += svg::hbar_chart(ax, labels, values);
  }
  return out + "</div>";
}

std::string top10_table(const ShapExplanation& e) {
  std::vector<double> total(e.features.size(), 0.0);
  for (size_t o = 0; o < e.outputs.size(); ++o) {
    const auto g = e.global_mean_abs(o);
    for (size_t f = 0; f < g.size(); ++f) total[f] += g[f];
  }
  std::vector<size_t> order(total.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return total[a] > total[b]; });
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < order.size() && i < 10; ++i)
    rows.push_back({std::to_string(i + 1), e.features[order[i]], html::num(total[order[i]])});
  return html::table({"rank", "column", "mean |SHAP| (summed over outputs)"}, rows, {0, 2});
}

}  // namespace

void write_explainability_report(const fs::path& job_dir, const ReportOptions& options) {
  const Pipeline p = Pipeline::load(job_dir / kModelDir);
  const std::string train = training_path(job_dir);
  if (train.empty() || !fs::exists(train))
    throw InputError("training file " + train + " is not readable (needed to explain the model)");
  const Table t = read_csv(train, p.csv_options());
  std::string which;
  std::vector<size_t> rows = rows_to_explain(
      job_dir, t.num_rows, static_cast<size_t>(std::max(1, options.shap_rows)), options.seed, which);
  std::vector<double> weights;
  const Table background = kmeans_background(p, t, options.background_size, options.seed, weights);
  const KernelShapOptions kopt{options.kernel_shap_samples, options.background_size, options.seed};
  constexpr size_t kProbeRows = 8;
  if (options.kernel_shap_budget_s > 0 && rows.size() > kProbeRows) {
    // Time a few rows (they are a random sample already) and keep what fits the budget.
    const auto t0 = std::chrono::steady_clock::now();
    kernel_shap(p, t.take({rows.begin(), rows.begin() + kProbeRows}), background, weights, kopt);
    const double per_row =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / kProbeRows;
    const double left = options.kernel_shap_budget_s - per_row * kProbeRows;
    const size_t fit = per_row > 0 ? static_cast<size_t>(std::max(0.0, left) / per_row) : rows.size();
    if (fit < rows.size()) {
      rows.resize(std::max(kProbeRows, fit));
      which += " (cut to " + std::to_string(rows.size()) + " rows by the time budget)";
    }
  }
  const Table x = t.take(rows);
  const ShapExplanation kernel = kernel_shap(p, x, background, weights, kopt);
  std::optional<ShapExplanation> exact;
  if (has_exact_shap(p)) exact = exact_shap(p, x);

  nlohmann::json explanations = {{"kernel_shap", clarify_block(kernel)}};
  if (exact) explanations[exact->method] = clarify_block(*exact);
  nlohmann::json outputs = nlohmann::json::object();
  for (size_t o = 0; o < kernel.outputs.size(); ++o)
    outputs["label" + std::to_string(o)] = kernel.outputs[o];
  nlohmann::json analysis = {
      {"version", "1.0"},
      {"explanations", explanations},
      {"tabpilot",
       {{"rows_explained", rows.size()}, {"rows", which}, {"agg_method", "mean_abs"},
        {"num_samples", options.kernel_shap_samples}, {"num_clusters", background.num_rows},
        {"seed", options.seed}, {"labels", outputs},
        {"kernel_shap_output_space", kernel.output_space},
        {"exact_method", exact ? exact->method : std::string()},
        {"exact_output_space", exact ? exact->output_space : std::string()}}}};
  fs::create_directories(job_dir / kExplainabilityDir);
  write_json_atomic(job_dir / kExplainabilityDir / "analysis.json", analysis);

  std::string body = html::section(
      "Method",
      html::paragraph("Global importance = mean |SHAP value| over " + std::to_string(rows.size()) +
                      " " + which + ", per input column (derived features such as one-hot slots, "
                      "missing indicators, date parts and hashed text buckets summed back to "
                      "their column).") +
          html::paragraph("Kernel SHAP (model-agnostic, as SageMaker Clarify): " +
                          std::to_string(options.kernel_shap_samples) +
                          " coalitions per row, absent columns filled from " +
                          std::to_string(background.num_rows) +
                          " k-means background rows. It explains " +
                          describe_output_space(kernel) + ".") +
          (exact ? html::paragraph("Exact " + exact->method + " (" + describe_output_space(*exact) +
                                   ") is shown as well; its scale differs from Kernel SHAP's on "
                                   "classification because it works before the sigmoid/softmax.")
                 : std::string()));
  body += html::section("Top 10 columns (Kernel SHAP)", top10_table(kernel), "top10");
  body += html::section("Kernel SHAP importance", importance_charts(kernel, "Kernel SHAP"), "kernel");
  if (exact)
    body += html::section("Exact SHAP importance (" + exact->method + ")",
                          importance_charts(*exact, exact->method == "tree_shap" ? "TreeSHAP" : "Exact SHAP"),
                          "exact");
  write_file_atomic(job_dir / "explainability.html",
                    html::page("Explainability", "Best model: " + p.candidate, body));
}

}  // namespace tabpilot::report
