// `tabpilot report DIR`: (re)writes every report of a job folder (index.html last).
// `tabpilot explain DIR rows.csv`: SHAP values of the given rows, per input column.
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/report/explain.h"
#include "tabpilot/report/reports.h"

namespace tabpilot::app {
namespace {

struct ReportArgs {
  std::string dir;
  ReportOptions options;
};

struct ExplainArgs {
  std::string dir, rows, output = "-", format = "csv", method = "auto";
  ReportOptions options;
};

void add_shap_options(CLI::App* sub, ReportOptions& o) {
  sub->add_option("--samples", o.kernel_shap_samples, "Kernel SHAP coalitions per row")
      ->capture_default_str()->check(CLI::Range(2, 100000));
  sub->add_option("--background", o.background_size, "k-means background rows for Kernel SHAP")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  sub->add_option("--seed", o.seed, "random seed")->capture_default_str();
}

}  // namespace

void add_report_commands(CLI::App& app, Commands& out) {
  auto r = std::make_shared<ReportArgs>();
  auto* rep = app.add_subcommand("report", "write the job folder's HTML reports (index.html)");
  rep->add_option("dir", r->dir, "job folder")->required();
  add_shap_options(rep, r->options);
  rep->add_option("--shap-rows", r->options.shap_rows, "rows explained for global importance")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  out.push_back({rep, [r] {
                   const auto dir = require_job_dir(r->dir);
                   write_job_reports(dir, r->options);
                   std::cout << (dir / "index.html").string() << "\n";
                   return 0;
                 }});

  auto e = std::make_shared<ExplainArgs>();
  auto* ex = app.add_subcommand("explain", "SHAP values of rows of a CSV file, per input column");
  ex->add_option("dir", e->dir, "job folder")->required();
  ex->add_option("rows", e->rows, "CSV file with a header and the feature columns")->required();
  ex->add_option("--output", e->output, "output file ('-': stdout)")->capture_default_str();
  ex->add_option("--format", e->format, "csv or json")->capture_default_str();
  ex->add_option("--method", e->method,
                 "auto (exact TreeSHAP/linear when the model allows, else Kernel SHAP), kernel "
                 "or exact")
      ->capture_default_str();
  add_shap_options(ex, e->options);
  out.push_back({ex, [e] {
                   const auto dir = require_job_dir(e->dir);
                   if (e->output != "-") check_output_file(e->output, "--output");
                   std::string method;
                   const std::string text = report::explain_csv(dir, e->rows, e->format,
                                                                e->method, e->options, &method);
                   std::cerr << "tabpilot explain: " << method << "\n";
                   if (e->output == "-") std::cout << text;
                   else write_file_atomic(e->output, text);
                   return 0;
                 }});
}

}  // namespace tabpilot::app
