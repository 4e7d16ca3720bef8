#include "tabpilot/sagemaker/trial_metrics.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/store/trial_store.h"

namespace fs = std::filesystem;

namespace tabpilot::sagemaker {

void print_metric_line(const std::string& body) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stdout, "tabpilot-metric: %s\n", body.c_str());
  std::fflush(stdout);
}

namespace {

std::string format_value(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

TrialMetricsPrinter::TrialMetricsPrinter(fs::path job_dir, int poll_ms)
    : job_dir_(std::move(job_dir)), poll_ms_(poll_ms) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      poll();
      for (int waited = 0; waited < poll_ms_ && !stop_.load(); waited += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

TrialMetricsPrinter::~TrialMetricsPrinter() { stop(); }

void TrialMetricsPrinter::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  poll();
}

void TrialMetricsPrinter::poll() {
  try {
    if (!fs::exists(job_dir_ / "store.sqlite")) return;
    if (objective_.empty() && fs::exists(job_dir_ / "job.json")) {
      const nlohmann::json job = read_json(job_dir_ / "job.json");
      objective_ = job.value("AutoMLJobObjective", nlohmann::json::object()).value("MetricName", "");
      // Autopilot's error-type metrics are minimised; everything else is maximised.
      higher_better_ = !(objective_ == "MSE" || objective_ == "RMSE" || objective_ == "MAE" ||
                         objective_ == "LogLoss");
    }
    for (const auto& t : open_folder_store(job_dir_)->trials()) {
      if (t.state != TrialState::kComplete || printed_.count(t.id)) continue;
      printed_.insert(t.id);
      std::string line = "trial=" + t.name;
      for (const char* set : {"validation", "train"})
        if (t.metrics.contains(set) && t.metrics[set].is_object())
          for (const auto& [metric, value] : t.metrics[set].items())
            if (value.is_number()) line += " " + std::string(set) + ":" + metric + "=" +
                                           format_value(value.get<double>()) + ";";
      print_metric_line(line);
      if (t.objective && std::isfinite(*t.objective) && !objective_.empty()) {
        const double v = *t.objective;
        if (!have_best_ || (higher_better_ ? v > best_ : v < best_)) {
          have_best_ = true;
          best_ = v;
          print_metric_line("best:" + objective_ + "=" + format_value(v) + "; trials=" +
                            std::to_string(printed_.size()) + ";");
        }
      }
    }
  } catch (const std::exception& e) {
    log::debug(std::string("metric poll: ") + e.what());  // the store may be mid-creation
  }
}

}  // namespace tabpilot::sagemaker
