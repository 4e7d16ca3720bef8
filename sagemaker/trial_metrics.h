// Metric lines for SageMaker's MetricDefinitions regexes, scraped from the training logs:
// a background thread polls the job's store (store.sqlite; run_fit is not touched) and prints
//   tabpilot-metric: trial=<name> validation:<metric>=<value>; ... train:<metric>=<value>;
//   tabpilot-metric: best:<objective metric>=<value>; trials=<n>;
// on stdout for every trial that finishes COMPLETE (the best line when it improves).
#pragma once
#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace tabpilot::sagemaker {

class TrialMetricsPrinter {
 public:
  // Starts polling `job_dir` (it may not exist yet) every `poll_ms` milliseconds.
  explicit TrialMetricsPrinter(std::filesystem::path job_dir, int poll_ms = 500);
  ~TrialMetricsPrinter();  // stop()
  // Stops the thread after one last poll, so that no finished trial goes unprinted.
  void stop();
  size_t printed() const { return printed_.size(); }

 private:
  void poll();

  std::filesystem::path job_dir_;
  int poll_ms_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::set<int64_t> printed_;
  std::string objective_;        // metric name, from job.json
  bool higher_better_ = false;
  bool have_best_ = false;
  double best_ = 0;
};

// "tabpilot-metric: <body>" on stdout, flushed (one line, whole).
void print_metric_line(const std::string& body);

}  // namespace tabpilot::sagemaker
