// data_exploration.html (+ data_exploration_details.json): Autopilot's data report sections
// (contract 2.2) from data_exploration.json and the training file.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/text.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/report/column_analysis.h"
#include "tabpilot/report/html.h"
#include "tabpilot/report/job_files.h"
#include "tabpilot/report/reports.h"
#include "tabpilot/report/svg.h"

namespace tabpilot {
namespace fs = std::filesystem;
using report::ColumnAnalysis;
using report::DatasetAnalysis;

namespace {

// Warnings that change what the model can learn are "high"; the rest are advice.
std::string severity(const std::string& code) {
  static const std::set<std::string> high = {"tiny_class", "class_imbalance",
                                             "dropped_missing_target", "integer_target",
                                             "invalid_target"};
  return high.count(code) ? "high" : "low";
}

std::string summary_section(const nlohmann::json& de, const DatasetAnalysis* a) {
  const size_t rows = de.value("rows", size_t{0}), cols = de.value("columns", size_t{0});
  const size_t dups = de.value("duplicate_rows", size_t{0});
  const std::string target = de["target"].value("name", std::string());
  std::string body = html::paragraph(
      "We read " + std::to_string(rows) + " rows. The dataset has " + std::to_string(cols) +
      " columns and the column named " + target + " is used as the target column. " +
      de["problem_type"].value("statement", std::string()));
  body += html::table({"rows", "columns", "duplicate rows", "missing target values", "features used"},
                      {{std::to_string(rows), std::to_string(cols),
                        std::to_string(dups) + " (" + html::percent(rows ? double(dups) / rows : 0) + ")",
                        std::to_string(de.value("dropped_target_rows", size_t{0})),
                        std::to_string(de.contains("features") ? de["features"].size() : 0)}},
                      {0, 1, 2, 3, 4});
  std::vector<std::vector<std::string>> insights;
  for (const auto& w : de.value("warnings", nlohmann::json::array())) {
    const std::string code = w.value("code", "");
    insights.push_back({html::badge(severity(code), severity(code)), html::escape(code),
                        html::escape(w.value("column", "")), html::escape(w.value("message", ""))});
  }
  std::sort(insights.begin(), insights.end(), [](auto& x, auto& y) { return x[0] < y[0]; });
  body += "<h3>Insights</h3>";
  body += insights.empty() ? html::paragraph("No issues found.")
                           : html::table_html({"severity", "code", "column", "message"}, insights);
  if (a && a->sampled)
    body += html::paragraph("The distributions, prediction power, correlations and duplicate "
                            "examples below use a random sample of " +
                            std::to_string(a->rows_analysed) + " of the " +
                            std::to_string(a->rows_total) + " rows.");
  return html::section("Dataset summary", body, "summary");
}

std::string target_section(const nlohmann::json& de, const DatasetAnalysis* a) {
  const auto& t = de["target"];
  std::string body;
  if (t.contains("classes")) {
    std::vector<std::string> labels;
    std::vector<double> counts;
    for (const auto& c : t["classes"]) {
      labels.push_back(c.value("label", ""));
      counts.push_back(c.value("count", 0.0));
    }
    body += html::paragraph(std::to_string(labels.size()) + " classes" +
                            (t.contains("imbalance_ratio")
                                 ? "; smallest / largest class = " +
                                       html::num(t["imbalance_ratio"].get<double>(), 3)
                                 : "") + ".");
    if (labels.size() > 30) labels.resize(30), counts.resize(30);
    svg::Axes ax{"Class balance of " + t.value("name", std::string()), "rows", ""};
    ax.width = 620;
    body += svg::hbar_chart(ax, labels, counts);
  } else if (a) {
    for (const auto& c : a->columns) {
      if (!c.is_target) continue;
      body += html::table({"mean", "median", "min", "max", "outliers (|z| > 3)"},
                          {{html::num(c.mean), html::num(c.median), html::num(c.min),
                            html::num(c.max), html::percent(c.outlier_fraction)}},
                          {0, 1, 2, 3, 4});
      svg::Axes ax{"Distribution of " + c.name, c.name, "rows"};
      ax.width = 620;
      body += svg::histogram(ax, c.edges, c.counts);
    }
  } else {
    body += "<pre>" + html::escape(t.dump(2)) + "</pre>";
  }
  return html::section("Target analysis", body, "target");
}

std::string columns_section(const DatasetAnalysis& a) {
  // Most "suspicious" first: missing values, then low prediction power.
  std::vector<const ColumnAnalysis*> cols;
  for (const auto& c : a.columns) cols.push_back(&c);
  std::stable_sort(cols.begin(), cols.end(), [](auto* x, auto* y) {
    return x->missing_fraction > y->missing_fraction;
  });
  std::vector<std::vector<std::string>> rows;
  for (const auto* c : cols) {
    std::string dist;
    if (c->type == ColumnType::kNumeric) {
      dist = svg::sparkline_bars(c->counts);
    } else {
      std::string tops;
      for (size_t i = 0; i < c->top_labels.size() && i < 3; ++i)
        tops += (i ? ", " : "") + c->top_labels[i] + " (" + html::num(c->top_counts[i]) + ")";
      dist = svg::sparkline_bars(c->top_counts) + "<br><span class=\"muted\">" + html::escape(tops) + "</span>";
    }
    const bool num = c->type == ColumnType::kNumeric;
    rows.push_back({html::escape(c->name) + (c->is_target ? " " + html::badge("target", "info") : ""),
                    html::escape(std::string(to_string(c->type))), html::percent(c->missing_fraction),
                    std::to_string(c->distinct), num ? html::num(c->mean) : "",
                    num ? html::num(c->median) : "", num ? html::num(c->min) : "",
                    num ? html::num(c->max) : "", num ? html::percent(c->outlier_fraction) : "",
                    c->is_target ? "" : html::num(c->prediction_power, 3), dist});
  }
  return html::section(
      "Missing values, cardinality and descriptive statistics",
      html::table_html({"column", "type", "missing", "distinct", "mean", "median", "min", "max",
                        "outliers", "prediction power", "distribution"},
                       rows, {2, 3, 4, 5, 6, 7, 8, 9}),
      "columns");
}

std::string power_section(const DatasetAnalysis& a) {
  std::vector<std::pair<double, std::string>> p;
  for (const auto& c : a.columns)
    if (!c.is_target && c.type != ColumnType::kIdLike) p.push_back({c.prediction_power, c.name});
  std::sort(p.rbegin(), p.rend());
  if (p.size() > 25) p.resize(25);
  std::vector<std::string> labels;
  std::vector<double> values;
  for (auto& [v, n] : p) labels.push_back(n), values.push_back(v);
  svg::Axes ax{"Prediction power of each column on its own", "prediction power (0..1)", ""};
  ax.width = 640;
  ax.x_max = 1;
  return html::section(
      "Prediction power",
      html::paragraph("Each column alone, binned (10 quantiles, or the 20 most frequent "
                      "categories, plus a missing bin), predicting the target on held-out rows: "
                      "R\xC2\xB2 for regression, 1 - Brier / Brier of the class priors for "
                      "classification. 0 = no signal alone; columns may still help together.") +
          svg::hbar_chart(ax, labels, values),
      "power");
}

std::string correlation_section(const DatasetAnalysis& a) {
  if (a.numeric_names.size() < 2)
    return html::section("Cross-column correlations",
                         html::paragraph("Fewer than two numeric columns."), "correlations");
  // At most 20 columns in the heat map: the first 20 numeric ones (the target, then by
  // prediction power).
  const size_t n = std::min<size_t>(a.numeric_names.size(), 20);
  std::vector<std::string> names(a.numeric_names.begin(), a.numeric_names.begin() + static_cast<long>(n));
  std::vector<std::vector<double>> m(n);
  for (size_t i = 0; i < n; ++i) m[i].assign(a.correlation[i].begin(), a.correlation[i].begin() + static_cast<long>(n));
  std::vector<std::tuple<double, std::string, std::string, double>> pairs;
  for (size_t i = 0; i < a.numeric_names.size(); ++i)
    for (size_t j = i + 1; j < a.numeric_names.size(); ++j)
      if (std::isfinite(a.correlation[i][j]))
        pairs.push_back({std::fabs(a.correlation[i][j]), a.numeric_names[i], a.numeric_names[j],
                         a.correlation[i][j]});
  std::sort(pairs.rbegin(), pairs.rend());
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < pairs.size() && i < 10; ++i)
    rows.push_back({std::get<1>(pairs[i]), std::get<2>(pairs[i]), html::num(std::get<3>(pairs[i]), 3)});
  svg::Axes ax{"Pearson correlation of numeric columns", ""};
  const std::string which =
      a.numeric_columns_total > a.numeric_names.size()
          ? html::paragraph("Correlations of the " + std::to_string(a.numeric_names.size()) +
                            " numeric columns with the most prediction power (of " +
                            std::to_string(a.numeric_columns_total) + ").")
          : std::string();
  return html::section("Cross-column correlations",
                       which + "<div class=\"charts\"><div class=\"chart\">" +
                           svg::heatmap(ax, names, names, m, -1, 1) +
                           "</div><div><h3>Most correlated pairs</h3>" +
                           html::table({"column", "column", "Pearson r"}, rows, {2}) +
                           "</div></div>",
                       "correlations");
}

std::string duplicates_section(const DatasetAnalysis& a, const std::vector<std::string>& names) {
  std::string body = html::paragraph(
      std::to_string(a.duplicate_rows_in_sample) + " duplicate rows" +
      (a.sampled ? " in the sample." : ".") +
      " Duplicates may end up on both sides of the validation split and flatter the score; "
      "do not up-sample the data before tabpilot splits it.");
  if (!a.duplicate_examples.empty()) body += html::table(names, a.duplicate_examples);
  return html::section("Duplicate rows", body, "duplicates");
}

std::string anomalies_section(const DatasetAnalysis& a, const Table& t) {
  std::string body = html::paragraph(
      "Anomaly score = 1 - (largest |z-score| of the row's numeric feature values) / 3: negative "
      "means at least one value lies more than 3 standard deviations from its column's mean. " +
      std::to_string(a.negative_anomaly_scores) + " of " + std::to_string(a.rows_analysed) +
      " rows score below 0. The lowest scores:");
  std::vector<std::string> header = {"row", "anomaly score"};
  for (const auto& n : t.names()) header.push_back(n);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [r, score] : a.anomalous_rows) {
    std::vector<std::string> row = {std::to_string(r + 1), html::num(score, 3)};
    for (const auto& c : t.columns) row.push_back(shorten(c.value_string(r)));
    rows.push_back(std::move(row));
  }
  return html::section("Anomalous rows", body + html::table(header, rows, {0, 1}), "anomalies");
}

std::string sample_section(const Table& t) {
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < t.num_rows && r < 10; ++r) {
    std::vector<std::string> row;
    for (const auto& c : t.columns) row.push_back(shorten(c.value_string(r)));
    rows.push_back(std::move(row));
  }
  return html::section("Data sample", html::table(t.names(), rows), "sample");
}

std::string definitions_section() {
  return html::section(
      "Definitions",
      html::table({"term", "meaning"},
                  {{"prediction power", "how well the column alone predicts the target on "
                                        "held-out rows, 0 (none) to 1 (perfect)"},
                   {"outliers", "numeric values more than 3 standard deviations from the mean"},
                   {"duplicate rows", "rows equal in every column to an earlier row"},
                   {"anomaly score", "1 - largest |z-score| of a row's numeric values / 3; "
                                     "negative = anomalous"},
                   {"Pearson r", "linear correlation of two numeric columns over the rows where "
                                 "both have a value, -1 to 1"},
                   {"high / low", "insight severity: high changes what the model can learn, low "
                                  "is advice"}}),
      "definitions");
}

}  // namespace

void write_data_exploration_report(const fs::path& job_dir) {
  auto de = report::read_json_if_exists(job_dir / kDataExplorationFile);
  if (!de) throw InputError((job_dir / kDataExplorationFile).string() + ": not found");
  const std::string target = (*de)["target"].value("name", std::string());
  const Task task = task_from_string((*de)["problem_type"].value("resolved", std::string("Regression")));
  const std::string path = report::training_path(job_dir);
  std::optional<Table> table;
  std::string note;
  if (!path.empty() && fs::exists(path)) {
    CsvOptions options;
    options.never_id = {target};
    table = read_csv(path, options);
  } else {
    note = "The training file (" + (path.empty() ? std::string("unknown") : path) +
           ") is not readable any more: only the stored summary is shown.";
  }
  std::optional<DatasetAnalysis> analysis;
  if (table) analysis = report::analyse_dataset(*table, target, task);
  const DatasetAnalysis* a = analysis ? &*analysis : nullptr;

  std::string body;
  if (!note.empty()) body += html::section("Note", html::paragraph(note));
  body += summary_section(*de, a);
  body += target_section(*de, a);
  if (table) body += sample_section(*table);
  if (a) {
    body += power_section(*a);
    body += duplicates_section(*a, table->names());
    body += correlation_section(*a);
    body += anomalies_section(*a, *table);
    body += columns_section(*a);
    write_json_atomic(job_dir / report::kDataExplorationDetails, a->to_json());
  }
  body += definitions_section();
  write_file_atomic(job_dir / report::kDataExplorationHtml,
                    html::page("Data exploration", "Training data: " + path, body));
}

}  // namespace tabpilot
