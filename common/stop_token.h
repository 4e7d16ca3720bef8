// Cooperative cancellation for long-running work: a wall-clock deadline plus an optional
// shared cancel flag. Learners poll should_stop() once per epoch or boosting round, which
// is what makes the job's time limit hard.
#pragma once
#include <atomic>
#include <chrono>
#include <limits>

namespace tabpilot {

using Clock = std::chrono::steady_clock;

class StopToken {
 public:
  StopToken() = default;
  StopToken(Clock::time_point deadline, const std::atomic<bool>* cancel = nullptr)
      : deadline_(deadline), cancel_(cancel) {}
  static StopToken after_seconds(double s, const std::atomic<bool>* cancel = nullptr) {
    return StopToken(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(s)),
                     cancel);
  }
  // The earlier of two deadlines, keeping this token's cancel flag.
  StopToken with_deadline(Clock::time_point d) const {
    return StopToken(d < deadline_ ? d : deadline_, cancel_);
  }
  bool should_stop() const {
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) return true;
    return Clock::now() >= deadline_;
  }
  bool timed_out() const { return Clock::now() >= deadline_; }
  double seconds_left() const {
    if (deadline_ == Clock::time_point::max()) return std::numeric_limits<double>::infinity();
    return std::chrono::duration<double>(deadline_ - Clock::now()).count();
  }
  Clock::time_point deadline() const { return deadline_; }

 private:
  Clock::time_point deadline_ = Clock::time_point::max();
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace tabpilot
