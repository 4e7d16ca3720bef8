// libFuzzer target: parse_json_body on arbitrary bytes (see fuzz_schema.h).
#include "fuzz_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tabpilot::serve::fuzz_body(data, size, tabpilot::serve::parse_json_body);
  return 0;
}
