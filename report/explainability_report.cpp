// explainability/analysis.json in SageMaker Clarify's layout (contract 2.5) and
// explainability.html: global SHAP importance (mean |SHAP| per input column) of the best
// model. Kernel SHAP always (model-agnostic, on probabilities, as Autopilot/Clarify do); the
// exact method too when the model has one (TreeSHAP / linear, in margin space).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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

// Rows to explain, in random order: the best candidate's validation rows when the job kept
// them, else training rows; at most `limit`.
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
  // Shuffled, so that any prefix is a random sample too (a time budget may cut the list).
  std::mt19937_64 rng(seed ^ 0x73686170ULL);
  std::shuffle(rows.begin(), rows.end(), rng);
  if (rows.size() > limit) rows.resize(limit);
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
  // Kernel SHAP's time: the caller's budget and what the deadline leaves, as one deadline that
  // kernel_shap checks before each row (the rows are a random sample, so the rows done are too).
  KernelShapOptions kopt{options.kernel_shap_samples, options.background_size, options.seed,
                         options.deadline};
  double budget = report_seconds_left(options);
  if (options.kernel_shap_budget_s > 0) budget = std::min(budget, options.kernel_shap_budget_s);
  if (std::isfinite(budget)) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(std::max(0.0, budget)));
    kopt.deadline = kopt.deadline ? std::min(*kopt.deadline, until) : until;
  }
  const size_t outputs = p.task == Task::kMulticlass ? static_cast<size_t>(p.num_classes()) : 1;
  const double row_seconds =
      kernel_shap_solve_seconds(p.features.size(), options.kernel_shap_samples, outputs);
  std::optional<ShapExplanation> kernel;
  std::string kernel_note;
  // One row must fit in half the budget, else Kernel SHAP is not started at all (wide data).
  if (row_seconds <= 0.5 * budget) {
    kernel = kernel_shap(p, t.take(rows), background, weights, kopt);
    if (kernel->rows < rows.size()) {
      rows.resize(kernel->rows);
      which += " (cut to " + std::to_string(rows.size()) + " rows by the time budget)";
    }
  } else {
    char note[240];
    std::snprintf(note, sizeof note,
                  "Kernel SHAP was not computed: %zu columns need about %.1f s per row and the "
                  "time limit left %.1f s (`tabpilot report` on the job folder computes it).",
                  p.features.size(), row_seconds, std::max(0.0, budget));
    kernel_note = note;
  }
  const Table x = t.take(rows);
  std::optional<ShapExplanation> exact;
  if (has_exact_shap(p)) exact = exact_shap(p, x);
  const ShapExplanation* main = kernel ? &*kernel : exact ? &*exact : nullptr;

  nlohmann::json explanations = nlohmann::json::object();
  if (kernel) explanations["kernel_shap"] = clarify_block(*kernel);
  if (exact) explanations[exact->method] = clarify_block(*exact);
  nlohmann::json outputs_json = nlohmann::json::object();
  for (size_t o = 0; main && o < main->outputs.size(); ++o)
    outputs_json["label" + std::to_string(o)] = main->outputs[o];
  nlohmann::json analysis = {
      {"version", "1.0"},
      {"explanations", explanations},
      {"tabpilot",
       {{"rows_explained", main ? rows.size() : 0}, {"rows", which}, {"agg_method", "mean_abs"},
        {"num_samples", options.kernel_shap_samples}, {"num_clusters", background.num_rows},
        {"seed", options.seed}, {"labels", outputs_json},
        {"kernel_shap_output_space", kernel ? kernel->output_space : std::string()},
        {"exact_method", exact ? exact->method : std::string()},
        {"exact_output_space", exact ? exact->output_space : std::string()}}}};
  if (!kernel_note.empty()) analysis["tabpilot"]["kernel_shap_skipped"] = kernel_note;
  fs::create_directories(job_dir / kExplainabilityDir);
  write_json_atomic(job_dir / kExplainabilityDir / "analysis.json", analysis);

  std::string method =
      kernel ? html::paragraph("Kernel SHAP (model-agnostic, as SageMaker Clarify): " +
                               std::to_string(options.kernel_shap_samples) +
                               " coalitions per row, absent columns filled from " +
                               std::to_string(background.num_rows) +
                               " k-means background rows. It explains " +
                               describe_output_space(*kernel) + ".")
             : html::paragraph(kernel_note);
  if (exact)
    method += html::paragraph("Exact " + exact->method + " (" + describe_output_space(*exact) +
                              ")" +
                              (kernel ? " is shown as well; its scale differs from Kernel SHAP's "
                                        "on classification because it works before the "
                                        "sigmoid/softmax."
                                      : "."));
  std::string body = html::section(
      "Method",
      html::paragraph("Global importance = mean |SHAP value| over " + std::to_string(rows.size()) +
                      " " + which + ", per input column (derived features such as one-hot slots, "
                      "missing indicators, date parts and hashed text buckets summed back to "
                      "their column).") +
          method);
  if (main)
    body += html::section(std::string("Top 10 columns (") + (kernel ? "Kernel SHAP" : exact->method) + ")",
                          top10_table(*main), "top10");
  if (kernel)
    body += html::section("Kernel SHAP importance", importance_charts(*kernel, "Kernel SHAP"), "kernel");
  if (exact)
    body += html::section("Exact SHAP importance (" + exact->method + ")",
                          importance_charts(*exact, exact->method == "tree_shap" ? "TreeSHAP" : "Exact SHAP"),
                          "exact");
  write_file_atomic(job_dir / "explainability.html",
                    html::page("Explainability", "Best model: " + p.candidate, body));
}

}  // namespace tabpilot::report
