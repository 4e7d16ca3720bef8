// Shared by the serve tests: real models trained once per build folder (a file lock keeps
// parallel ctest processes from training twice), an in-process endpoint on a free loopback
// port, and a raw-socket HTTP/1.1 client that sends exactly the bytes a test gives it.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/test_paths.h"
#include "tabpilot/automl/job.h"
#include "tabpilot/common/log.h"
#include "tabpilot/serve/http_server.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot::testing {

// A job folder trained from a fixture with small limits, kept in the build folder.
inline std::filesystem::path trained_job(const std::string& fixture, const std::string& target,
                                         const std::vector<std::string>& learners) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(TABPILOT_BINARY_DIR) / "serve-test-models";
  fs::create_directories(root);
  const std::string name = fixture + "-" + (learners.empty() ? "all" : learners.front());
  const fs::path job = root / name;
  const int lock = ::open((root / (name + ".lock")).c_str(), O_CREAT | O_RDWR, 0644);
  ::flock(lock, LOCK_EX);
  if (!fs::exists(job / "model" / "model.json")) {
    log::set_level(log::Level::kWarn);
    JobConfig c;
    c.train_path = (test_data(fixture) / "train.csv").string();
    c.target = target;
    c.output_dir = root.string();
    c.name = name;
    c.max_candidates = 3;
    c.time_limit_s = 30;
    c.learners = learners;
    c.progress = false;
    c.overwrite = true;
    c.seed = 7;
    JobResult r = run_fit(c);
    if (r.status != JobStatus::kCompleted) throw std::runtime_error("fixture job failed: " + r.failure_reason);
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  return job;
}

inline std::filesystem::path penguins_job() { return trained_job("penguins", "species", {"xgboost"}); }
inline std::filesystem::path auto_mpg_job() { return trained_job("auto_mpg", "mpg", {"linear"}); }

// An endpoint serving `job` on 127.0.0.1:<free port> from a background thread.
struct TestServer {
  Pipeline pipeline;
  std::unique_ptr<serve::CaptureWriter> capture;
  std::unique_ptr<serve::Endpoint> endpoint;
  std::unique_ptr<serve::HttpServer> server;
  std::thread thread;

  TestServer(const std::filesystem::path& job, serve::EndpointOptions eo = {},
             serve::ServerOptions so = {}, const serve::CaptureOptions* co = nullptr)
      : pipeline(Pipeline::load(job / "model")) {
    if (co != nullptr) capture = std::make_unique<serve::CaptureWriter>(*co);
    so.port = 0;
    if (so.threads == 0) so.threads = 2;
    eo.max_concurrent_transforms = so.threads;
    endpoint = std::make_unique<serve::Endpoint>(pipeline, eo, capture.get());
    server = std::make_unique<serve::HttpServer>(*endpoint, so);
    thread = std::thread([this] { server->run(); });
  }
  ~TestServer() {
    server->stop();
    thread.join();
  }
  int port() const { return server->port(); }
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One client connection; requests and responses as raw bytes.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { ::close(fd_); }

  void send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<size_t>(n);
    }
  }

  // Reads one response; status 0 when the connection closed first or `timeout_ms` passed.
  Response read_response(int timeout_ms = 10000) {
    Response r;
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string head = buffer_.substr(0, end);
        r.status = std::stoi(head.substr(9, 3));
        size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
          const size_t next = head.find("\r\n", pos + 2);
          const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
          const size_t colon = line.find(':');
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          r.headers[name] = line.substr(colon + 2);
          pos = next;
        }
        const size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
        if (r.status == 100) {
          buffer_.erase(0, end + 4);
          r = Response{};
          continue;
        }
        if (buffer_.size() >= end + 4 + length) {
          r.body = buffer_.substr(end + 4, length);
          buffer_.erase(0, end + 4 + length);
          return r;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return Response{};
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return Response{};
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  Response request(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::map<std::string, std::string>& headers = {}) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    send_raw(req);
    return read_response();
  }

  // True when the server closed the connection (reads EOF within timeout_ms).
  bool closed_by_server(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace tabpilot::testing
