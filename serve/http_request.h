// The HTTP/1.1 request-head parser of the endpoint, on a byte buffer and without sockets, so
// that it can be fuzzed on its own (tests/fuzz/fuzz_http_head.cpp). It understands what the
// endpoint needs (method, path, Content-Length, Content-Type, Accept, Connection, Expect and
// the SageMaker headers) and ignores every other header, as the serving contract asks.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tabpilot::serve {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;  // request line + headers; more is 431
  size_t max_headers = 100;           // more is 431
  size_t max_body_bytes = 6 * 1024 * 1024;  // Content-Length above this is 413
};

// Views into the buffer given to parse_request_head: valid while that buffer is unchanged.
struct HttpRequest {
  std::string_view method;
  std::string_view path;   // the target without its query string
  std::string_view query;  // after '?', may be empty
  int minor_version = 1;   // HTTP/1.<minor>
  std::string_view content_type;  // empty when absent
  std::string_view accept;        // empty when absent
  std::string_view inference_id;       // X-Amzn-SageMaker-Inference-Id
  std::string_view custom_attributes;  // X-Amzn-SageMaker-Custom-Attributes
  size_t content_length = 0;
  bool keep_alive = true;       // HTTP/1.1 default; "Connection: close" or HTTP/1.0 clear it
  bool expect_continue = false;  // "Expect: 100-continue"
  size_t head_bytes = 0;         // where the body starts in the buffer
};

enum class HeadStatus { kIncomplete, kComplete, kError };

struct HeadResult {
  HeadStatus status = HeadStatus::kIncomplete;
  int http_status = 0;  // kError: the status to answer with (400, 413, 431, 501, 505)
  std::string reason;   // kError: one line for the response body
};

// Parses the request head at the start of `buffer`. kIncomplete: more bytes are needed (and
// the head is still within the limits). Bare LF line ends are accepted as well as CRLF.
HeadResult parse_request_head(std::string_view buffer, const HttpLimits& limits,
                              HttpRequest* request);

// "text/csv; charset=utf-8" -> "text/csv": the media type, lower-cased, parameters dropped,
// blanks trimmed.
std::string media_type(std::string_view header_value);

// The reason phrase of the status codes the endpoint uses ("OK", "Not Found", ...).
std::string_view status_text(int status);

// Appends a whole response (status line, Content-Type when the body is not empty,
// Content-Length, Connection) to `out`.
void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive);

}  // namespace tabpilot::serve
