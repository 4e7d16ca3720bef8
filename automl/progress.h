// Progress of a running job: a live status line on a terminal (redrawn every second), plain
// log lines otherwise, nothing with --quiet.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace tabpilot {

class Progress {
 public:
  Progress(bool enabled, int total_trials, double time_limit_s);
  ~Progress();
  // A trial ended; `best` is e.g. "MSE 4.51 (dpp0-xgboost-007)".
  void trial_finished(int done, const std::string& best);
  void message(const std::string& line);  // a log line that does not break the live line
  void stop();

 private:
  std::string line() const;
  void draw_locked();
  bool enabled_, tty_;
  int total_;
  double limit_;
  std::chrono::steady_clock::time_point start_;
  int done_ = 0;
  std::string best_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace tabpilot
