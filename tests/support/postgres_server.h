// A real PostgreSQL server for the tests that need one (the shared trial store, workers on
// many "machines"): its own data folder under the temp dir, a Unix socket only (no TCP port,
// so parallel test processes never collide), trust authentication, fsync off. Started on
// first use in a test process and stopped when the process exits. The server refuses to run
// as root, so under root it runs as the `postgres` user (runuser).
//
// The server binaries come from TABPILOT_PG_BINDIR, else the newest
// /usr/lib/postgresql/<version>/bin (Debian's postgresql package), else PATH.
#pragma once
#include <string>

namespace tabpilot::testing {

class PostgresServer {
 public:
  // Whether a server can be started here, without starting one; why_not() says why not.
  static bool available();
  static std::string why_not();
  // The process's server, started on the first call. Throws std::runtime_error (with the
  // server's log tail) when it does not start.
  static PostgresServer& shared();

  // libpq URL of database `db` on this server (no password: trust authentication).
  std::string url(const std::string& db = "postgres") const;
  // A new, empty database; its URL.
  std::string new_database();
  // Stops the server (fast shutdown: connections are cut) and starts it again.
  void restart();
  void stop();
  void start();
  // Runs SQL through psql as the superuser; its stdout.
  std::string psql(const std::string& sql, const std::string& db = "postgres") const;
  // The server's folder: data/, server.log and the socket.
  const std::string& folder() const { return dir_; }

 private:
  PostgresServer();
  std::string dir_, bindir_, as_user_;
};

}  // namespace tabpilot::testing
