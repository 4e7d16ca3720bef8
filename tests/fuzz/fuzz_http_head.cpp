// libFuzzer target: the HTTP request-head parser on arbitrary bytes.
#include <cstdint>
#include <string_view>

#include "tabpilot/serve/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tabpilot::serve;
  const std::string_view buffer(reinterpret_cast<const char*>(data), size);
  HttpLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_headers = 32;
  HttpRequest request;
  const HeadResult r = parse_request_head(buffer, limits, &request);
  if (r.status == HeadStatus::kComplete) {
    // Every view must lie inside the buffer, and the body must start within it.
    if (request.head_bytes > size) __builtin_trap();
    for (std::string_view v : {request.method, request.path, request.query, request.content_type,
                               request.accept, request.inference_id}) {
      if (!v.empty() && (v.data() < buffer.data() || v.data() + v.size() > buffer.data() + size))
        __builtin_trap();
    }
    (void)media_type(request.content_type);
  } else if (r.status == HeadStatus::kError && (r.http_status < 400 || r.reason.empty())) {
    __builtin_trap();
  }
  return 0;
}
