// Open-loop load generator for bench/serve: requests are scheduled at a fixed rate (request i
// at start + i / rate) and spread over C keep-alive connections; latency is measured from the
// scheduled time, not the send time, so a slow server cannot slow the generator down and hide
// its own queueing (no coordinated omission). Prints one JSON object.
//
// loadgen PORT RATE SECONDS CONNECTIONS BODY_FILE [CONTENT_TYPE]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

static int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one response (Content-Length framed); returns its status, 0 on failure.
static int read_response(int fd, std::string& buf) {
  while (true) {
    const size_t end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t length = 0;
      const size_t cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) length = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= end + 4 + length) {
        const int status = std::atoi(buf.c_str() + 9);
        buf.erase(0, end + 4 + length);
        return status;
      }
    }
    char tmp[65536];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: loadgen PORT RATE SECONDS CONNECTIONS BODY_FILE [CONTENT_TYPE]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const double rate = std::atof(argv[2]), seconds = std::atof(argv[3]);
  const int conns = std::atoi(argv[4]);
  std::stringstream ss;
  ss << std::ifstream(argv[5]).rdbuf();
  const std::string body = ss.str();
  const std::string type = argc > 6 ? argv[6] : "text/csv";
  const std::string request = "POST /invocations HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + type +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const size_t total = static_cast<size_t>(rate * seconds);
  std::vector<double> latency_us(total, -1);
  std::atomic<size_t> errors{0};
  const auto start = Clock::now() + std::chrono::milliseconds(200);
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c)
    threads.emplace_back([&, c] {
      int fd = connect_to(port);
      std::string buf;
      for (size_t i = static_cast<size_t>(c); i < total; i += static_cast<size_t>(conns)) {
        const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * i / rate));
        std::this_thread::sleep_until(due);
        if (fd < 0) fd = connect_to(port);
        size_t sent = 0;
        while (fd >= 0 && sent < request.size()) {
          const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) break;
          sent += static_cast<size_t>(n);
        }
        const int status = sent == request.size() ? read_response(fd, buf) : 0;
        if (status != 200) {
          ++errors;
          if (fd >= 0) ::close(fd);
          fd = -1;
          buf.clear();
          continue;
        }
        latency_us[i] = std::chrono::duration<double, std::micro>(Clock::now() - due).count();
      }
      if (fd >= 0) ::close(fd);
    });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> ok;
  for (double v : latency_us)
    if (v >= 0) ok.push_back(v);
  std::sort(ok.begin(), ok.end());
  auto pct = [&](double p) { return ok.empty() ? 0.0 : ok[std::min(ok.size() - 1, static_cast<size_t>(p * ok.size()))]; };
  std::printf("{\"target_rate\":%.1f,\"seconds\":%.2f,\"connections\":%d,\"sent\":%zu,\"ok\":%zu,"
              "\"errors\":%zu,\"achieved_rate\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
              "\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
              rate, elapsed, conns, total, ok.size(), errors.load(), ok.size() / elapsed, pct(0.5) / 1e3,
              pct(0.9) / 1e3, pct(0.99) / 1e3, pct(0.999) / 1e3, ok.empty() ? 0.0 : ok.back() / 1e3);
  return errors.load() == 0 ? 0 : 1;
}
