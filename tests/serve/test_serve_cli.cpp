// `tabpilot serve` as a real child process: graceful SIGTERM with a request in flight, and a
// model whose files changed refuses to start (exit 2, one line).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <fstream>

#include "serve/serve_support.h"

using namespace tabpilot::testing;
namespace fs = std::filesystem;

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;  // the child's stdout and stderr
};

Child spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  c.out = fds[0];
  return c;
}

// Reads the child's output until `needle` appears (or EOF / timeout); returns what was read.
std::string read_until(int fd, const std::string& needle, int timeout_ms = 20000) {
  std::string got;
  while (got.find(needle) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const std::string kBinary = std::string(TABPILOT_BINARY_DIR) + "/tabpilot";

}  // namespace

TEST(ServeCli, SigtermFinishesTheRequestInFlightThenExitsZero) {
  Child c = spawn({kBinary, "serve", penguins_job().string(), "--port", "0", "--threads", "2"});
  const std::string banner = read_until(c.out, "\n");
  const size_t colon = banner.find("127.0.0.1:");
  ASSERT_NE(colon, std::string::npos) << banner;
  const int port = std::stoi(banner.substr(colon + 10));

  Client idle(port);
  ASSERT_EQ(idle.request("GET", "/ping").status, 200);
  Client busy(port);
  const std::string body = "Dream,46,17,195,3800,FEMALE\n";
  busy.send_raw("POST /invocations HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body.substr(0, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(c.pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  busy.send_raw(body.substr(10));
  const Response r = busy.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(r.headers.at("connection"), "close");
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_EQ(wait_exit(c.pid), 0);
  ::close(c.out);
}

TEST(ServeCli, ChangedModelRefusesToStart) {
  const fs::path copy = scratch_dir("serve-tampered") / "model";
  fs::copy(penguins_job() / "model", copy, fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(copy))
    if (e.path().extension() == ".bin") {
      std::ofstream(e.path(), std::ios::app) << "x";
      break;
    }
  Child c = spawn({kBinary, "serve", copy.string(), "--port", "0"});
  const std::string out = read_until(c.out, "\n\n", 20000);
  EXPECT_EQ(wait_exit(c.pid), 2);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("tabpilot: "), std::string::npos) << out;
  ::close(c.out);
}
