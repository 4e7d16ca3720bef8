// Text for people: values from the data shown in reports, logs and messages are cut to a
// readable length, so that one 10 MB cell cannot make a 10 MB report.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tabpilot {

// Values longer than this are cut in reports and data_exploration.json.
inline constexpr size_t kShownValueBytes = 100;

// `s` cut to at most `max_bytes` (at a UTF-8 character boundary) with "..." and the full
// length appended, e.g. "XXXX... (10000000 bytes)"; shorter values unchanged.
inline std::string shorten(std::string_view s, size_t max_bytes = kShownValueBytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace tabpilot
