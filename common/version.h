// tabpilot's version: what --version prints and what the workers of one job must share.
#pragma once

namespace tabpilot {

inline constexpr const char* kTabpilotVersion = "0.1.0";

}  // namespace tabpilot
