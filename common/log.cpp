#include "tabpilot/common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace tabpilot::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
const char* tag(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    default: return "error";
  }
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

void write(Level level, const std::string& message) {
  if (level < g_level.load()) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "[tabpilot] %s: %s\n", tag(level), message.c_str());
}

}  // namespace tabpilot::log
