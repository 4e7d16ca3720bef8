// candidate_definitions.html and candidate_definitions.ipynb (contract 2.3): each candidate's
// preprocessing, algorithm and hyperparameter ranges, and for every trial the command that
// re-runs it from the job folder alone (`tabpilot train --job DIR --trial NAME`).
#include <cmath>
#include <filesystem>
#include <map>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
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

std::string shell_quote(const std::string& s) {
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=") ==
      std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string train_command(const fs::path& job_dir, const std::string& trial) {
  return "tabpilot train --job " + shell_quote(fs::absolute(job_dir).lexically_normal().string()) +
         " --trial " + shell_quote(trial);
}

// A Python string literal (JSON's escapes are Python's too): names and paths reach the
// notebook only this way, never through a shell or IPython's `!` line, which would expand
// {expressions} and $variables in them.
std::string py_str(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

// Text inside a Python comment: one line.
std::string py_comment(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// A notebook line that re-runs one trial through the tabpilot() helper of the first cell.
std::string train_call(const std::string& trial) {
  return "tabpilot(\"train\", \"--job\", JOB, \"--trial\", " + py_str(trial) + ")";
}

std::string range_text(const nlohmann::json& p) {
  const std::string type = p.value("type", "");
  if (type == "choice") {
    std::string s;
    for (const auto& c : p.value("choices", nlohmann::json::array()))
      s += (s.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : c.dump());
    return "{" + s + "}";
  }
  auto num = [](const nlohmann::json& v) { return v.is_number() ? html::num(v.get<double>()) : v.dump(); };
  return "[" + num(p.value("low", nlohmann::json())) + ", " + num(p.value("high", nlohmann::json())) + "]" +
         (type == "log-float" ? " (log scale)" : "");
}

std::string recipe_lines(const nlohmann::json& c) {
  return c.value("transforms", std::string());
}

std::vector<TrialRecord> read_trials(const fs::path& job_dir) {
  nlohmann::json job = read_json(job_dir / kJobFile);
  // A folder-backed job whose store file is gone has no trials to describe; a shared store
  // (PostgreSQL) lives elsewhere and is opened from job.json.
  if (store_spec(job).empty() && !fs::exists(job_dir / kStoreFile))
    return {};
  return open_folder_store(job_dir, job)->trials();
}

std::string objective_text(const TrialRecord& t) {
  return t.objective ? html::num(*t.objective) : std::string("-");
}

// A notebook cell; source split into lines as nbformat stores it.
nlohmann::json cell(const std::string& type, const std::string& text, int& id) {
  nlohmann::json lines = nlohmann::json::array();
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size() - 1;
    lines.push_back(text.substr(start, nl - start + 1));
    start = nl + 1;
  }
  nlohmann::json c = {{"cell_type", type}, {"id", "cell-" + std::to_string(id++)},
                      {"metadata", nlohmann::json::object()}, {"source", lines}};
  if (type == "code") {
    c["execution_count"] = nullptr;
    c["outputs"] = nlohmann::json::array();
  }
  return c;
}

std::string markdown_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|' || ch == '*' || ch == '_' || ch == '`' || ch == '<' || ch == '>') out += '\\';
    out += ch;
  }
  return out;
}

bool higher_is_better_for(const nlohmann::json& job, const std::string& metric) {
  try {
    const std::string problem = job.at("ResolvedAttributes").at("ProblemType");
    return higher_is_better(metric_from_string(metric, task_from_string(problem)));
  } catch (const std::exception&) {
    return false;
  }
}

// Each candidate's best validation objective, as bars.
std::string best_per_candidate_chart(
    const nlohmann::json& defs, std::map<std::string, std::vector<const TrialRecord*>>& by_candidate,
    const std::string& metric, bool higher) {
  std::vector<std::string> labels;
  std::vector<double> values;
  for (const auto& c : defs["candidates"]) {
    const std::string name = c.value("name", "");
    double best = NAN;
    for (const TrialRecord* t : by_candidate[name])
      if (t->objective && (std::isnan(best) || (higher ? *t->objective > best : *t->objective < best)))
        best = *t->objective;
    labels.push_back(name);
    values.push_back(best);
  }
  svg::Axes a{"Best validation " + metric + " per candidate (" +
                  (higher ? "higher" : "lower") + " is better)",
              "validation " + metric, ""};
  a.width = 640;
  return html::section("Candidates", html::paragraph(std::to_string(labels.size()) +
                                                     " candidate definitions; bars are missing for "
                                                     "candidates without a completed trial.") +
                                         svg::hbar_chart(a, labels, values),
                       "overview");
}

}  // namespace

void write_candidate_reports(const fs::path& job_dir) {
  auto defs = read_json_if_exists(job_dir / kCandidatesFile);
  if (!defs) throw InputError((job_dir / kCandidatesFile).string() + ": not found (the job "
                              "stopped before generating candidates)");
  const auto job = read_json_if_exists(job_dir / kJobFile).value_or(nlohmann::json::object());
  const std::string job_name = job.value("AutoMLJobName", defs->value("job", std::string()));
  const std::vector<TrialRecord> trials = read_trials(job_dir);
  std::map<std::string, std::vector<const TrialRecord*>> by_candidate;
  for (const auto& t : trials) by_candidate[t.candidate].push_back(&t);
  const std::string metric =
      job.contains("AutoMLJobObjective") ? job["AutoMLJobObjective"].value("MetricName", "") : "";

  // ---- HTML
  std::string body = html::section(
      "About",
      html::paragraph("Each candidate is a feature recipe (preprocessing) plus an algorithm and "
                      "the ranges its hyperparameters were tuned over. Every trial can be re-run "
                      "from this job folder alone with the command shown; it reads the same "
                      "training file (checked by SHA-256), makes the same split and uses the same "
                      "seed, so it reproduces the recorded validation score."));
  body += best_per_candidate_chart(*defs, by_candidate, metric, higher_is_better_for(job, metric));
  for (const auto& c : (*defs)["candidates"]) {
    const std::string name = c.value("name", "");
    std::string s = html::table({"algorithm", "why"}, {{c.value("learner", ""), c.value("rationale", "")}});
    s += "<h3>Preprocessing</h3>" + html::paragraph(recipe_lines(c));
    s += "<pre>" + html::escape(c.value("recipe", nlohmann::json::object()).dump(2)) + "</pre>";
    std::vector<std::vector<std::string>> ranges;
    const auto space = c.value("search_space", nlohmann::json::object());
    for (const auto& p : space.value("params", nlohmann::json::array()))
      ranges.push_back({p.value("name", ""), p.value("type", ""), range_text(p),
                        p.contains("default") ? (p["default"].is_string() ? p["default"].get<std::string>()
                                                                          : p["default"].dump())
                                              : "",
                        p.value("help", "")});
    for (const auto& [k, v] : space.value("fixed", nlohmann::json::object()).items())
      ranges.push_back({k, "fixed", v.dump(), v.dump(), "static for this candidate"});
    s += "<h3>Hyperparameter ranges</h3>" +
         html::table({"hyperparameter", "type", "range", "default", "meaning"}, ranges);
    std::vector<std::vector<std::string>> trows;
    for (const TrialRecord* t : by_candidate[name])
      trows.push_back({html::escape(t->name), html::escape(std::string(to_string(t->state))),
                       objective_text(*t), "<code>" + html::escape(train_command(job_dir, t->name)) + "</code>"});
    s += "<h3>Trials</h3>" +
         (trows.empty() ? html::paragraph("No trial ran for this candidate.")
                        : html::table_html({"trial", "state", metric.empty() ? "objective" : metric,
                                            "re-run"},
                                           trows, {2}));
    body += html::section("Candidate " + name, s, name);
  }
  write_file_atomic(job_dir / kCandidatesHtml,
                    html::page("Candidate definitions", "Job " + job_name, body));

  // ---- notebook (nbformat 4.5)
  int id = 0;
  nlohmann::json cells = nlohmann::json::array();
  cells.push_back(cell("markdown",
                       "# Candidate definitions: " + markdown_escape(job_name) +
                           "\n\nThis notebook lists the candidates tabpilot generated for this job "
                           "and re-runs their trials from the job folder. Each `tabpilot train "
                           "--job ... --trial ...` cell retrains one trial with the recorded "
                           "hyperparameters, split and seed and prints its validation metrics.\n"
                           "\nEdit a cell's command (or the candidate's ranges in "
                           "`candidate_definitions.json`) to experiment.",
                       id));
  cells.push_back(cell("code",
                       "import json, subprocess\nJOB = " +
                           py_str(fs::absolute(job_dir).lexically_normal().string()) +
                           "\n\n\ndef tabpilot(*args):\n"
                           "    \"\"\"Runs the tabpilot command with these arguments: no shell, "
                           "nothing in them is expanded.\"\"\"\n"
                           "    subprocess.run([\"tabpilot\", *args], check=True)\n\n\n"
                           "with open(JOB + \"/candidate_definitions.json\") as f:\n"
                           "    candidates = json.load(f)[\"candidates\"]\n"
                           "for c in candidates:\n"
                           "    print(f\"{c['name']:<24} {c['learner']:<10} {c['rationale']}\")",
                       id));
  for (const auto& c : (*defs)["candidates"]) {
    const std::string name = c.value("name", "");
    std::string md = "## " + markdown_escape(name) + "\n\n**Algorithm:** " +
                     markdown_escape(c.value("learner", "")) + "  \n**Preprocessing:** " +
                     markdown_escape(recipe_lines(c)) + "\n\n| hyperparameter | range |\n|---|---|\n";
    for (const auto& p : c.value("search_space", nlohmann::json::object()).value("params", nlohmann::json::array()))
      md += "| " + markdown_escape(p.value("name", "")) + " | " + markdown_escape(range_text(p)) + " |\n";
    const auto& ts = by_candidate[name];
    md += "\nTrials: " + std::to_string(ts.size()) + ".";
    cells.push_back(cell("markdown", md, id));
    if (ts.empty()) continue;
    // The candidate's best completed trial runs here; the others are listed to copy.
    const TrialRecord* best = nullptr;
    const bool higher = higher_is_better_for(job, metric);
    for (const TrialRecord* t : ts)
      if (t->objective && (!best || (higher ? *t->objective > *best->objective : *t->objective < *best->objective)))
        best = t;
    if (!best) best = ts.front();
    std::string code = "# best trial of " + py_comment(name) + " (recorded " + metric + ": " +
                       objective_text(*best) + ")\n" + train_call(best->name);
    for (const TrialRecord* t : ts)
      if (t != best) code += "\n# " + train_call(t->name);
    cells.push_back(cell("code", code, id));
  }
  cells.push_back(cell("markdown", "## Leaderboard\n\nAll trials, best first, from the job's store.", id));
  cells.push_back(cell("code", "tabpilot(\"trials\", JOB)", id));
  nlohmann::json nb = {
      {"nbformat", 4},
      {"nbformat_minor", 5},
      {"metadata",
       {{"kernelspec", {{"name", "python3"}, {"display_name", "Python 3"}, {"language", "python"}}},
        {"language_info", {{"name", "python"}}}}},
      {"cells", cells}};
  write_file_atomic(job_dir / kCandidatesNotebook, nb.dump(1) + "\n");
}

}  // namespace tabpilot::report
