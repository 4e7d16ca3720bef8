// The leaderboard: trials from the store, ranked by the job's objective (or another key),
// formatted as an aligned table, CSV or JSON.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/data/csv.h"

namespace tabpilot {
namespace {

std::string csv_escape(const std::string& s) {
  std::string out;
  append_csv_field(out, s);
  return out;
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  return v.dump();
}

// "host:pid" of a lease owner "host:pid:start" (automl/lease.h): the worker that ran it.
std::string worker_of(const std::string& owner) {
  const size_t last = owner.rfind(':');
  return last == std::string::npos ? owner : owner.substr(0, last);
}

}  // namespace

nlohmann::json list_trials(const std::string& job_dir, const std::string& sort_key, size_t top) {
  auto dir = require_job_dir(job_dir);
  const nlohmann::json job = read_json(dir / kJobFile);
  return list_trials(*open_folder_store(dir, job), job, sort_key, top);
}

nlohmann::json list_trials(const TrialStore& store, const nlohmann::json& job,
                           const std::string& sort_key, size_t top) {
  if (!job.contains("ResolvedAttributes") || !job.contains("AutoMLJobObjective"))
    throw InputError(store.location() + ": the job has not resolved its problem type yet");
  std::string problem = job["ResolvedAttributes"]["ProblemType"];
  Task task = task_from_string(problem);
  Metric objective = metric_from_string(job["AutoMLJobObjective"]["MetricName"].get<std::string>(), task);
  auto trials = store.trials();

  // Sort key: the objective by default; "validation:<metric>", "train:<metric>",
  // "duration", "name" or "id" otherwise.
  std::string set = "validation";
  std::string key = std::string(to_string(objective));
  bool by_metric = true;
  bool descending = higher_is_better(objective);
  if (!sort_key.empty()) {
    auto colon = sort_key.find(':');
    if (colon != std::string::npos) {
      set = sort_key.substr(0, colon);
      if (set != "validation" && set != "train")
        throw InputError("--sort: unknown set '" + set + "' (use validation:<metric> or train:<metric>)");
      Metric m;
      try {
        m = metric_from_string(sort_key.substr(colon + 1), task);
      } catch (const InputError& e) {
        throw InputError("--sort " + sort_key + ": " + e.what());
      }
      key = std::string(to_string(m));
      descending = higher_is_better(m);
    } else if (sort_key == "duration" || sort_key == "name" || sort_key == "id") {
      by_metric = false;
      key = sort_key;
      descending = false;
    } else {
      throw InputError("--sort: unknown key '" + sort_key +
                       "' (use validation:<metric>, train:<metric>, duration, name or id)");
    }
  }
  auto value_of = [&](const TrialRecord& t) -> double {
    if (by_metric) {
      if (t.state != TrialState::kComplete || !t.metrics.contains(set) || !t.metrics[set].contains(key))
        return NAN;
      return t.metrics[set][key].get<double>();
    }
    if (key == "duration") return t.finished_at > 0 ? t.finished_at - t.started_at : NAN;
    return static_cast<double>(t.id);
  };
  std::stable_sort(trials.begin(), trials.end(), [&](const TrialRecord& a, const TrialRecord& b) {
    if (key == "name") return a.name < b.name;
    double va = value_of(a), vb = value_of(b);
    if (std::isnan(va) != std::isnan(vb)) return std::isnan(vb);  // finished, scored first
    if (std::isnan(va)) return a.id < b.id;
    if (va != vb) return descending ? va > vb : va < vb;
    return a.id < b.id;
  });
  nlohmann::json rows = nlohmann::json::array();
  size_t rank = 0;
  for (const auto& t : trials) {
    if (top && rows.size() >= top) break;
    nlohmann::json r = {{"rank", ++rank},
                        {"trial", t.name},
                        {"candidate", t.candidate},
                        {"learner", t.learner},
                        {"state", to_string(t.state)},
                        {"objective_metric", to_string(objective)},
                        {"objective", t.objective ? nlohmann::json(*t.objective) : nlohmann::json()},
                        {"seconds", t.finished_at > 0 ? nlohmann::json(t.finished_at - t.started_at)
                                                      : nlohmann::json()},
                        {"validation", t.metrics.value("validation", nlohmann::json::object())},
                        {"train", t.metrics.value("train", nlohmann::json::object())},
                        {"params", t.params},
                        {"error", t.error},
                        {"worker", worker_of(t.owner)}};
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string format_trials(const nlohmann::json& rows, const std::string& format) {
  if (format == "json") return rows.dump(2) + "\n";
  if (format != "table" && format != "csv")
    throw InputError("--format: unknown format '" + format + "' (use table, csv or json)");
  // Metric columns: the union over rows, in first-seen order.
  std::vector<std::string> metrics;
  for (const auto& r : rows)
    for (auto& [k, v] : r["validation"].items())
      if (std::find(metrics.begin(), metrics.end(), k) == metrics.end()) metrics.push_back(k);
  std::vector<std::string> header = {"rank", "trial", "learner", "state"};
  for (const auto& m : metrics) header.push_back("validation:" + m);
  header.push_back("seconds");
  if (format == "csv") {
    header.push_back("params");
    header.push_back("error");
  }
  header.push_back("worker");
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    std::vector<std::string> line = {cell(r["rank"]), cell(r["trial"]), cell(r["learner"]),
                                     cell(r["state"])};
    for (const auto& m : metrics)
      line.push_back(r["validation"].contains(m) ? cell(r["validation"][m]) : "");
    line.push_back(cell(r["seconds"]));
    if (format == "csv") {
      line.push_back(r["params"].dump());
      line.push_back(cell(r["error"]));
    }
    line.push_back(r.contains("worker") ? cell(r["worker"]) : "");
    table.push_back(std::move(line));
  }
  std::ostringstream out;
  if (format == "csv") {
    for (size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << csv_escape(header[i]);
    out << "\n";
    for (const auto& line : table) {
      for (size_t i = 0; i < line.size(); ++i) out << (i ? "," : "") << csv_escape(line[i]);
      out << "\n";
    }
    return out.str();
  }
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& line : table)
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  auto emit = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      out << line[i];
      if (i + 1 < line.size()) out << std::string(width[i] - line[i].size() + 2, ' ');
    }
    out << "\n";
  };
  emit(header);
  for (const auto& line : table) emit(line);
  return out.str();
}

}  // namespace tabpilot
