// One logging entry point so that --quiet, progress lines and tests agree on where text goes.
#pragma once
#include <string>

namespace tabpilot::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

void set_level(Level level);
Level level();
// Writes "[tabpilot] LEVEL message" to stderr, serialized across threads.
void write(Level level, const std::string& message);
inline void info(const std::string& m) { write(Level::kInfo, m); }
inline void warn(const std::string& m) { write(Level::kWarn, m); }
inline void debug(const std::string& m) { write(Level::kDebug, m); }

}  // namespace tabpilot::log
