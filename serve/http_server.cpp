#include "tabpilot/serve/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"

namespace tabpilot::serve {

using Clock = std::chrono::steady_clock;

struct HttpServer::Connection {
  int fd = -1;
  std::string in;   // received and not yet answered
  std::string out;  // response bytes to send
  bool busy = false;
  bool continue_sent = false;
  Clock::time_point idle_since;     // when the connection last had nothing pending
  Clock::time_point request_start;  // first byte of the pending request
};

namespace {

constexpr size_t kReadChunk = 64 * 1024;

int elapsed_ms(Clock::time_point since, Clock::time_point now) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count());
}

// Sends everything, waiting for the socket to drain up to `timeout_ms` at a time.
bool send_all(int fd, const std::string& data, int timeout_ms) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

HttpServer::HttpServer(Endpoint& endpoint, ServerOptions options)
    : endpoint_(endpoint), options_(std::move(options)) {
  threads_ = options_.threads > 0 ? options_.threads
                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (::getaddrinfo(options_.bind.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    throw InputError("--bind: '" + options_.bind + "' is not a numeric IPv4 or IPv6 address");
  listen_fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (listen_fd_ >= 0) ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, found->ai_addr, found->ai_addrlen) != 0 ||
      ::listen(listen_fd_, 1024) != 0) {
    const std::string why = std::strerror(errno);
    ::freeaddrinfo(found);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw InputError("--port " + port + " on " + options_.bind + ": cannot listen (" + why + ")");
  }
  ::freeaddrinfo(found);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || stop_fd_ < 0) throw std::runtime_error("epoll/eventfd: " + std::string(std::strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.fd = stop_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
}

HttpServer::~HttpServer() {
  for (auto& [fd, c] : connections_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void HttpServer::stop() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof one);
}

void HttpServer::run() {
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { worker(); });
  epoll_event events[128];
  Clock::time_point drain_deadline{};
  Clock::time_point last_scan = Clock::now();
  while (true) {
    const int n = ::epoll_wait(epoll_fd_, events, 128, 100);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept_all();
      } else if (fd == stop_fd_) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(stop_fd_, &v, sizeof v);
        if (!stopping_.exchange(true)) {
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          ::close(listen_fd_);
          listen_fd_ = -1;
          drain_deadline = Clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
          log::info("serve: stopping; finishing the requests in flight");
          scan_timeouts(true);
        }
      } else {
        dispatch(fd);
      }
    }
    const auto now = Clock::now();
    if (stopping_ || now - last_scan >= std::chrono::milliseconds(100)) {
      scan_timeouts(stopping_);
      last_scan = now;
    }
    if (stopping_) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (connections_.empty() || now >= drain_deadline) break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_exit_ = true;
  }
  work_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void HttpServer::accept_all() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors: the next round tries again
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (connections_.size() >= options_.max_connections) {
      std::string busy;
      append_response(busy, 503, "text/plain", "too many open connections\n", false);
      [[maybe_unused]] ssize_t w = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->idle_since = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.fd = fd;
    connections_.emplace(fd, std::move(c));
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void HttpServer::dispatch(int fd) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(fd);
    if (it == connections_.end() || it->second->busy) return;
    it->second->busy = true;
    queue_.push_back(it->second.get());
  }
  work_.notify_one();
}

void HttpServer::worker() {
  auto scratch = endpoint_.make_scratch();
  HttpResponse response;
  while (true) {
    Connection* c = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [&] { return workers_exit_ || !queue_.empty(); });
      if (queue_.empty()) return;
      c = queue_.front();
      queue_.pop_front();
    }
    serve_connection(*c, *scratch, response);
  }
}

void HttpServer::serve_connection(Connection& c, Endpoint::Scratch& scratch, HttpResponse& response) {
  const HttpLimits& limits = options_.limits;
  const size_t max_buffer = limits.max_head_bytes + limits.max_body_bytes + kReadChunk;
  bool close_it = false, peer_closed = false;
  const bool had_partial = !c.in.empty();
  char buf[kReadChunk];
  while (c.in.size() < max_buffer) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      peer_closed = true;
      break;
    } else if (errno == EINTR) {
      continue;
    } else {
      if (errno != EAGAIN && errno != EWOULDBLOCK) close_it = true;
      break;
    }
  }
  if (!had_partial && !c.in.empty()) c.request_start = Clock::now();

  while (!c.in.empty() && !close_it) {
    HttpRequest request;
    const HeadResult head = parse_request_head(c.in, limits, &request);
    if (head.status == HeadStatus::kIncomplete) break;
    if (head.status == HeadStatus::kError) {
      append_response(c.out, head.http_status, "text/plain; charset=utf-8", head.reason + "\n", false);
      close_it = true;
      break;
    }
    const size_t total = request.head_bytes + request.content_length;
    if (c.in.size() < total) {
      if (request.expect_continue && !c.continue_sent) {
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
        c.continue_sent = true;
      }
      break;
    }
    endpoint_.handle(request, std::string_view(c.in).substr(request.head_bytes, request.content_length),
                     scratch, response);
    const bool keep = request.keep_alive && !stopping_.load(std::memory_order_relaxed);
    const std::string_view body = request.method == "HEAD" ? std::string_view() : response.body;
    append_response(c.out, response.status, response.content_type, body, keep);
    c.in.erase(0, total);
    c.continue_sent = false;
    c.request_start = Clock::now();
    if (!keep) close_it = true;
  }
  if (!c.out.empty()) {
    if (!send_all(c.fd, c.out, options_.request_timeout_ms)) close_it = true;
    c.out.clear();
  }
  // A peer that closed its side with a partial request will never complete it.
  release(c, close_it || peer_closed);
}

void HttpServer::release(Connection& c, bool close_it) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (close_it) {
    close_locked(c.fd);
    return;
  }
  c.busy = false;
  if (c.in.empty()) {
    c.idle_since = Clock::now();
    if (c.out.capacity() > (1u << 20)) std::string().swap(c.out);
    if (c.in.capacity() > (1u << 20)) std::string().swap(c.in);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.fd = c.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void HttpServer::close_locked(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  connections_.erase(fd);
}

void HttpServer::scan_timeouts(bool stopping) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int> expired;
  for (auto& [fd, c] : connections_) {
    if (c->busy) continue;
    if (c->in.empty()) {
      if (stopping || elapsed_ms(c->idle_since, now) >= options_.idle_timeout_ms)
        expired.push_back(fd);
    } else if (elapsed_ms(c->request_start, now) >= options_.request_timeout_ms) {
      std::string timeout;
      append_response(timeout, 408, "text/plain; charset=utf-8",
                      "the request did not arrive completely within " +
                          std::to_string(options_.request_timeout_ms) + " ms\n",
                      false);
      [[maybe_unused]] ssize_t w = ::send(fd, timeout.data(), timeout.size(), MSG_NOSIGNAL);
      expired.push_back(fd);
    }
  }
  for (int fd : expired) close_locked(fd);
}

}  // namespace tabpilot::serve
