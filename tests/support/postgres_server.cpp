#include "support/postgres_server.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace tabpilot::testing {
namespace {

constexpr int kPort = 5432;  // names the socket file only: every server has its own folder

std::string bindir() {
  if (const char* env = std::getenv("TABPILOT_PG_BINDIR"); env && *env) return env;
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb")) found.push_back(e.path() / "bin");
  if (!found.empty()) {
    // The newest version: compare as numbers (9.6 < 15).
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
      return std::atof(a.parent_path().filename().c_str()) <
             std::atof(b.parent_path().filename().c_str());
    });
    return found.back().string();
  }
  for (const char* p : {"/usr/bin", "/usr/local/bin", "/usr/local/pgsql/bin"})
    if (fs::exists(fs::path(p) / "initdb") && fs::exists(fs::path(p) / "pg_ctl")) return p;
  return {};
}

// The user the server runs as: nobody special unless we are root, when it is `postgres`.
std::string server_user() {
  if (::geteuid() != 0) return {};
  return ::getpwnam("postgres") ? "postgres" : "";
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its output (stdout and stderr). Throws with the output when it fails.
std::string run(const std::string& command, const std::string& what) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error(what + ": cannot run " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error(what + " failed (" + command + "): " + out);
  return out;
}

std::string log_tail(const fs::path& log) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

void give_to(const fs::path& path, const std::string& user) {
  if (user.empty()) return;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw || ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    throw std::runtime_error("cannot give " + path.string() + " to " + user);
}

PostgresServer* g_server = nullptr;

void stop_at_exit() {
  if (!g_server) return;
  try {
    g_server->stop();
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(g_server->folder(), ec);
}

}  // namespace

bool PostgresServer::available() { return why_not().empty(); }

std::string PostgresServer::why_not() {
  const std::string b = bindir();
  if (b.empty())
    return "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql "
           "package (scripts/setup.sh does) or set TABPILOT_PG_BINDIR";
  if (::geteuid() == 0 && server_user().empty())
    return "running as root and there is no `postgres` user to run the server as";
  if (::geteuid() == 0 && !fs::exists("/usr/sbin/runuser") && !fs::exists("/sbin/runuser") &&
      !fs::exists("/usr/bin/runuser"))
    return "running as root and there is no runuser to start the server as `postgres`";
  return {};
}

PostgresServer& PostgresServer::shared() {
  static std::mutex m;
  std::lock_guard lock(m);
  if (!g_server) {
    if (!available()) throw std::runtime_error("PostgreSQL test server: " + why_not());
    g_server = new PostgresServer();
    std::atexit(stop_at_exit);
  }
  return *g_server;
}

PostgresServer::PostgresServer() : bindir_(bindir()), as_user_(server_user()) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path() / ("tabpilot-pg-" + std::to_string(::getpid()) +
                                                    "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  give_to(dir, as_user_);
  dir_ = dir.string();

  // initdb takes a second or two; a template made once per machine (and server version) is
  // copied instead. It is made under a private name and renamed into place, so that two
  // processes making it at once never see half of one.
  const fs::path tmpl = fs::temp_directory_path() /
                        ("tabpilot-pg-template-" + std::to_string(std::hash<std::string>{}(bindir_)) +
                         (as_user_.empty() ? "" : "-" + as_user_));
  const std::string prefix = as_user_.empty() ? "" : "runuser -u " + as_user_ + " -- ";
  if (!fs::exists(tmpl / "PG_VERSION")) {
    const fs::path making = tmpl.string() + ".making." + std::to_string(::getpid());
    fs::remove_all(making);
    fs::create_directories(making);
    give_to(making, as_user_);
    run(prefix + quote(bindir_ + "/initdb") + " -D " + quote((making / "data").string()) +
            " -A trust -U tabpilot -E UTF8 --locale=C --no-sync",
        "initdb");
    std::error_code ec;
    fs::rename(making / "data", tmpl, ec);  // loses harmlessly to a concurrent maker
    fs::remove_all(making, ec);
  }
  run("cp -a " + quote(tmpl.string()) + " " + quote(dir_ + "/data"), "copying the template");
  start();
}

void PostgresServer::start() {
  const std::string prefix = as_user_.empty() ? "" : "runuser -u " + as_user_ + " -- ";
  const std::string options = "-k " + dir_ + " -c listen_addresses='' -p " +
                              std::to_string(kPort) +
                              " -c fsync=off -c synchronous_commit=off -c max_connections=200";
  try {
    run(prefix + quote(bindir_ + "/pg_ctl") + " -D " + quote(dir_ + "/data") + " -o " +
            quote(options) + " -l " + quote(dir_ + "/server.log") + " -w -t 60 start",
        "pg_ctl start");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "\nserver log: " +
                             log_tail(fs::path(dir_) / "server.log"));
  }
}

void PostgresServer::stop() {
  const std::string prefix = as_user_.empty() ? "" : "runuser -u " + as_user_ + " -- ";
  run(prefix + quote(bindir_ + "/pg_ctl") + " -D " + quote(dir_ + "/data") + " -m fast -w stop",
      "pg_ctl stop");
}

void PostgresServer::restart() {
  stop();
  start();
}

std::string PostgresServer::url(const std::string& db) const {
  return "postgresql:///" + db + "?host=" + dir_ + "&port=" + std::to_string(kPort) +
         "&user=tabpilot";
}

std::string PostgresServer::new_database() {
  static std::atomic<int> counter{0};
  const std::string db = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  psql("CREATE DATABASE " + db);
  return url(db);
}

std::string PostgresServer::psql(const std::string& sql, const std::string& db) const {
  return run(quote(bindir_ + "/psql") + " -X -q -At -h " + quote(dir_) + " -p " +
                 std::to_string(kPort) + " -U tabpilot -d " + quote(db) + " -c " + quote(sql),
             "psql");
}

}  // namespace tabpilot::testing
