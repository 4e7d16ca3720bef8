// What the PostgreSQL store's URLs look like to messages: built with or without libpq.
#include <string>
#include <vector>

#include "tabpilot/store/postgres_store.h"

namespace tabpilot {

bool is_postgres_url(const std::string& spec) {
  return spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0;
}

std::string redact_url(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string head = url, query;
  if (const size_t q = url.find('?'); q != std::string::npos) {
    head = url.substr(0, q);
    query = url.substr(q + 1);
  }
  // user:password@host
  const size_t at = head.find('@', scheme + 3);
  const size_t slash = head.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const size_t colon = head.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) head = head.substr(0, colon) + head.substr(at);
  }
  // ...?password=...&...
  std::string kept;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string param = query.substr(start, end - start);
    if (param.rfind("password=", 0) != 0 && !param.empty()) kept += (kept.empty() ? "" : "&") + param;
    start = end + 1;
  }
  return kept.empty() ? head : head + "?" + kept;
}

}  // namespace tabpilot
