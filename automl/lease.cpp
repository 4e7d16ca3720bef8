#include "tabpilot/automl/lease.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace tabpilot {
namespace {

// Field 22 of /proc/<pid>/stat (starttime), 0 when unreadable. The command name (field 2)
// may hold spaces and parentheses: count fields after its closing parenthesis.
uint64_t process_start(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::stoull(field);
  return 0;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace

std::string WorkerId::str() const {
  return host + ":" + std::to_string(pid) + ":" + std::to_string(start);
}

const WorkerId& this_worker() {
  static const WorkerId self = [] {
    WorkerId w;
    w.host = host_name();
    w.pid = ::getpid();
    w.start = process_start(w.pid);
    return w;
  }();
  return self;
}

std::optional<WorkerId> parse_worker(const std::string& s) {
  const size_t b = s.rfind(':');
  if (b == std::string::npos || b == 0) return std::nullopt;
  const size_t a = s.rfind(':', b - 1);
  if (a == std::string::npos || a == 0) return std::nullopt;
  try {
    WorkerId w;
    w.host = s.substr(0, a);
    w.pid = std::stoll(s.substr(a + 1, b - a - 1));
    w.start = std::stoull(s.substr(b + 1));
    return w;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool lease_holds(const TrialRecord& t, double now, double lease_seconds) {
  const auto w = parse_worker(t.owner);
  if (!w) return false;
  if (w->host == this_worker().host) {
    // This machine: the process itself answers, at once, whatever its heartbeat says.
    if (w->pid <= 0) return false;
    if (::kill(static_cast<pid_t>(w->pid), 0) != 0 && errno == ESRCH) return false;
    return process_start(w->pid) == w->start;
  }
  return now - t.heartbeat_at < lease_seconds;
}

int requeue_lapsed(TrialStore& store, double now, double lease_seconds) {
  std::vector<TrialRecord> lapsed;
  for (auto& t : store.trials_in(TrialState::kRunning))
    if (!lease_holds(t, now, lease_seconds)) lapsed.push_back(std::move(t));
  return lapsed.empty() ? 0 : store.requeue(lapsed);
}

}  // namespace tabpilot
