#include "tabpilot/automl/progress.h"

#include <unistd.h>

#include <cstdio>

namespace tabpilot {

Progress::Progress(bool enabled, int total_trials, double time_limit_s)
    : enabled_(enabled), tty_(enabled && ::isatty(STDERR_FILENO)), total_(total_trials),
      limit_(time_limit_s), start_(std::chrono::steady_clock::now()) {
  if (tty_) {
    ticker_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stopping_) {
        draw_locked();
        cv_.wait_for(lock, std::chrono::seconds(1));
      }
    });
  }
}

Progress::~Progress() { stop(); }

void Progress::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    if (tty_) {
      draw_locked();
      std::fputc('\n', stderr);
    }
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

std::string Progress::line() const {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char buf[256];
  std::snprintf(buf, sizeof buf, "trials %d/%d  best %s  elapsed %.0fs  remaining %.0fs", done_,
                total_, best_.empty() ? "-" : best_.c_str(), elapsed,
                limit_ > elapsed ? limit_ - elapsed : 0.0);
  return buf;
}

void Progress::draw_locked() {
  if (!tty_) return;
  std::fprintf(stderr, "\r\033[K%s", line().c_str());
  std::fflush(stderr);
}

void Progress::trial_finished(int done, const std::string& best) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  best_ = best;
  if (tty_) draw_locked();
  else std::fprintf(stderr, "[tabpilot] %s\n", line().c_str());
}

void Progress::message(const std::string& text) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_) std::fprintf(stderr, "\r\033[K[tabpilot] %s\n", text.c_str());
  else std::fprintf(stderr, "[tabpilot] %s\n", text.c_str());
  if (tty_) draw_locked();
}

}  // namespace tabpilot
