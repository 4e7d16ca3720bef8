#include "tabpilot/serve/http_request.h"

#include <charconv>
#include <cstdio>
#include <cstring>

namespace tabpilot::serve {
namespace {

bool is_token_char(unsigned char c) {
  // RFC 9110 tchar
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value (Connection) lists `token`.
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (iequals(trim_blanks(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

HeadResult error(int status, std::string reason) {
  return {HeadStatus::kError, status, std::move(reason)};
}

}  // namespace

HeadResult parse_request_head(std::string_view buffer, const HttpLimits& limits,
                              HttpRequest* request) {
  *request = HttpRequest{};
  // Leading empty lines before the request line are tolerated (RFC 9112 2.2).
  size_t pos = 0;
  while (pos < buffer.size() && (buffer[pos] == '\r' || buffer[pos] == '\n')) ++pos;
  const size_t window = buffer.size() < limits.max_head_bytes ? buffer.size() : limits.max_head_bytes;

  // The next line in [pos, window): false when no line end has arrived yet.
  auto next_line = [&](std::string_view* line) {
    const void* nl = pos < window ? std::memchr(buffer.data() + pos, '\n', window - pos) : nullptr;
    if (nl == nullptr) return false;
    const size_t end = static_cast<const char*>(nl) - buffer.data();
    *line = buffer.substr(pos, end - pos);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos = end + 1;
    return true;
  };
  auto incomplete_or_too_large = [&]() -> HeadResult {
    if (buffer.size() >= limits.max_head_bytes)
      return error(431, "the request head is larger than " +
                            std::to_string(limits.max_head_bytes) + " bytes");
    return {};
  };

  std::string_view line;
  if (!next_line(&line)) return incomplete_or_too_large();
  // request-line = method SP request-target SP HTTP-version
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return error(400, "malformed request line");
  request->method = line.substr(0, sp1);
  for (char c : request->method)
    if (!is_token_char(static_cast<unsigned char>(c))) return error(400, "malformed method");
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') return error(400, "the request target must be a path");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return error(400, "control character in the request target");
  const size_t q = target.find('?');
  request->path = target.substr(0, q);
  if (q != std::string_view::npos) request->query = target.substr(q + 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return error(400, "malformed HTTP version");
  if (version[5] != '1') return error(505, "only HTTP/1.x is supported");
  request->minor_version = version[7] - '0';
  request->keep_alive = request->minor_version >= 1;

  size_t headers = 0;
  bool have_length = false;
  while (true) {
    if (!next_line(&line)) return incomplete_or_too_large();
    if (line.empty()) break;
    if (++headers > limits.max_headers)
      return error(431, "more than " + std::to_string(limits.max_headers) + " header fields");
    if (line.front() == ' ' || line.front() == '\t')
      return error(400, "obsolete header line folding is not accepted");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return error(400, "malformed header field");
    const std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!is_token_char(static_cast<unsigned char>(c)))
        return error(400, "malformed header field name");
    const std::string_view value = trim_blanks(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return error(400, "control character in a header value");

    if (iequals(name, "content-length")) {
      size_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        return error(400, "invalid Content-Length");
      if (have_length && n != request->content_length)
        return error(400, "conflicting Content-Length headers");
      have_length = true;
      request->content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      // Payloads carry a length (SageMaker sends one); chunked bodies are not read.
      return error(501, "Transfer-Encoding is not supported; send a Content-Length");
    } else if (iequals(name, "content-type")) {
      request->content_type = value;
    } else if (iequals(name, "accept")) {
      request->accept = value;
    } else if (iequals(name, "connection")) {
      if (lists_token(value, "close")) request->keep_alive = false;
      else if (lists_token(value, "keep-alive")) request->keep_alive = true;
    } else if (iequals(name, "expect")) {
      if (!iequals(value, "100-continue")) return error(417, "unsupported Expect value");
      request->expect_continue = true;
    } else if (iequals(name, "x-amzn-sagemaker-inference-id")) {
      request->inference_id = value;
    } else if (iequals(name, "x-amzn-sagemaker-custom-attributes")) {
      request->custom_attributes = value;
    }
  }
  request->head_bytes = pos;
  if (request->content_length > limits.max_body_bytes)
    return error(413, "the payload is " + std::to_string(request->content_length) +
                          " bytes; the limit is " + std::to_string(limits.max_body_bytes));
  return {HeadStatus::kComplete, 0, {}};
}

std::string media_type(std::string_view header_value) {
  std::string_view v = trim_blanks(header_value.substr(0, header_value.find(';')));
  std::string out(v);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string_view status_text(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive) {
  char line[64];
  std::snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
  out += line;
  out += status_text(status);
  out += "\r\n";
  if (!body.empty() && !content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  out += body;
}

}  // namespace tabpilot::serve
