// index.html: the job at a glance — status (and why it failed), leaderboard, train vs
// validation objective of the top five trials, best objective over time, links to reports.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/files.h"
#include "tabpilot/report/html.h"
#include "tabpilot/report/job_files.h"
#include "tabpilot/report/report_parts.h"
#include "tabpilot/report/svg.h"
#include "tabpilot/store/trial_store.h"
#include "tabpilot/trainer/metrics.h"

namespace tabpilot::report {
namespace fs = std::filesystem;
namespace {

struct Objective {
  std::string name;
  bool higher = false;
  bool known = false;
};

Objective objective_of(const nlohmann::json& job) {
  Objective o;
  try {
    o.name = job.at("AutoMLJobObjective").at("MetricName");
    const Task task = task_from_string(job.at("ResolvedAttributes").at("ProblemType").get<std::string>());
    o.higher = higher_is_better(metric_from_string(o.name, task));
    o.known = true;
  } catch (const std::exception&) {
  }
  return o;
}

double metric_of(const TrialRecord& t, const std::string& set, const std::string& name) {
  if (!t.metrics.contains(set) || !t.metrics[set].contains(name) || !t.metrics[set][name].is_number())
    return NAN;
  return t.metrics[set][name].get<double>();
}

std::string links_section(const fs::path& job_dir, const ReportStatus& status) {
  struct Link {
    const char* file;
    const char* title;
    const char* what;
  };
  const Link links[] = {
      {kDataExplorationHtml, "Data exploration", "dataset summary, target, columns, correlations"},
      {kCandidatesHtml, "Candidate definitions", "preprocessing, algorithms, ranges, re-run commands"},
      {kCandidatesNotebook, "Candidate notebook", "Jupyter notebook re-running the trials"},
      {kModelQualityHtml, "Model quality", "metrics with standard deviations, charts"},
      {kModelQualityJson, "Model quality JSON", "Model Monitor model-quality layout"},
      {"explainability.html", "Explainability", "SHAP importance per column"},
      {"explainability/analysis.json", "Explainability JSON", "Clarify analysis.json layout"},
      {"job.json", "job.json", "DescribeAutoMLJob-like description"},
      {"trials.csv", "trials.csv", "every trial with its metrics"}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : links)
    if (fs::exists(job_dir / l.file))
      rows.push_back({"<a href=\"" + html::escape(l.file) + "\">" + html::escape(l.title) + "</a>",
                      html::escape(l.what)});
  std::string body = html::table_html({"report", "contents"}, rows);
  if (!status.failed.empty()) {
    std::vector<std::vector<std::string>> f;
    for (const auto& [name, why] : status.failed) f.push_back({name, why});
    body += "<h3>Reports not written</h3>" + html::table({"report", "why"}, f);
  }
  return html::section("Reports", body, "reports");
}

}  // namespace

void write_index(const fs::path& job_dir, const ReportStatus& status) {
  const auto job = read_json_if_exists(job_dir / kJobFile).value_or(nlohmann::json::object());
  const std::string name = job.value("AutoMLJobName", fs::absolute(job_dir).filename().string());
  const std::string state = job.value("AutoMLJobStatus", std::string("Unknown"));
  const Objective obj = objective_of(job);
  std::vector<TrialRecord> trials;
  if (fs::exists(job_dir / kStoreFile) || !job.value("tabpilot", nlohmann::json::object())
                                               .value("config", nlohmann::json::object())
                                               .value("store", std::string())
                                               .empty())
    trials = open_folder_store(job_dir, job)->trials();

  std::vector<std::vector<std::string>> facts = {
      {"status", html::badge(state, state == "Completed" ? "ok" : state == "Failed" ? "high" : "info") +
                     " " + html::escape(job.value("AutoMLJobSecondaryStatus", std::string()))},
      {"problem type", html::escape(job.contains("ResolvedAttributes")
                                        ? job["ResolvedAttributes"].value("ProblemType", "")
                                        : "")},
      {"objective", html::escape(obj.name + (obj.known ? (obj.higher ? " (maximize)" : " (minimize)") : ""))},
      {"training data", html::escape(training_path(job_dir))},
      {"trials", std::to_string(trials.size())},
      {"created", html::escape(job.value("CreationTime", std::string()))},
      {"ended", html::escape(job.value("EndTime", std::string()))}};
  if (job.contains("BestCandidate")) {
    const auto& b = job["BestCandidate"];
    std::string value;
    if (b.contains("FinalAutoMLJobObjectiveMetric") && b["FinalAutoMLJobObjectiveMetric"].contains("Value"))
      value = html::num(b["FinalAutoMLJobObjectiveMetric"]["Value"].get<double>());
    facts.push_back({"best candidate", "<b>" + html::escape(b.value("CandidateName", "")) + "</b> " + value});
  }
  if (job.contains("FailureReason"))
    facts.push_back({"failure reason", "<b>" + html::escape(job.value("FailureReason", "")) + "</b>"});
  std::string body = html::section("Job", html::table_html({"field", "value"}, facts), "job");
  body += links_section(job_dir, status);

  // Completed trials, best first.
  std::vector<const TrialRecord*> done;
  for (const auto& t : trials)
    if (t.state == TrialState::kComplete && t.objective) done.push_back(&t);
  std::stable_sort(done.begin(), done.end(), [&](auto* a, auto* b) {
    return obj.higher ? *a->objective > *b->objective : *a->objective < *b->objective;
  });
  if (!trials.empty()) {
    std::vector<std::vector<std::string>> rows;
    size_t rank = 0;
    for (const TrialRecord* t : done) {
      if (++rank > 50) break;
      rows.push_back({std::to_string(rank), t->name, t->learner, html::num(*t->objective),
                      html::num(metric_of(*t, "train", obj.name)),
                      html::num(t->finished_at - t->started_at, 3)});
    }
    std::string lb = html::table({"rank", "trial", "algorithm", "validation " + obj.name,
                                  "train " + obj.name, "seconds"},
                                 rows, {0, 3, 4, 5});
    size_t failed = 0;
    for (const auto& t : trials) failed += t.state == TrialState::kFail || t.state == TrialState::kPruned;
    if (failed) lb += html::paragraph(std::to_string(failed) + " trials failed or were pruned (see trials.csv).");
    body += html::section("Leaderboard (top 50)", lb, "leaderboard");

    std::string charts = "<div class=\"charts\">";
    std::vector<svg::Series> top;
    for (size_t i = 0; i < done.size() && i < 5; ++i)
      top.push_back({done[i]->name, {metric_of(*done[i], "train", obj.name)}, {*done[i]->objective}, "", false});
    svg::Axes a{"Top five trials: train vs validation " + obj.name, "train " + obj.name,
                "validation " + obj.name};
    a.legend = obj.higher ? "tl" : "br";  // away from where the points gather
    charts += svg::plot(a, top, true);
    // Best objective so far against minutes since the first trial started.
    std::vector<const TrialRecord*> by_time = done;
    std::sort(by_time.begin(), by_time.end(), [](auto* x, auto* y) { return x->finished_at < y->finished_at; });
    double t0 = INFINITY;
    for (const auto& t : trials)
      if (t.started_at > 0) t0 = std::min(t0, t.started_at);
    svg::Series best{"best so far", {}, {}, "", true, true}, each{"each trial", {}, {}, "#9fb3c8", false};
    double cur = NAN;
    for (const TrialRecord* t : by_time) {
      const double v = *t->objective, x = t->finished_at - t0;
      if (std::isnan(cur) || (obj.higher ? v > cur : v < cur)) cur = v;
      each.x.push_back(x), each.y.push_back(v);
      best.x.push_back(x), best.y.push_back(cur);
    }
    svg::Axes b{"Best validation " + obj.name + " over time", "seconds since the first trial started",
                "validation " + obj.name};
    b.legend = obj.higher ? "br" : "tr";
    charts += svg::plot(b, {each, best});
    body += html::section("Progress", charts + "</div>", "progress");
  }
  write_file_atomic(job_dir / kIndexHtml, html::page("tabpilot job " + name, state, body));
}

}  // namespace tabpilot::report
