// The endpoint's HTTP/1.1 server on POSIX sockets: one thread runs the accept loop and an
// epoll set of idle connections; a pool of worker threads reads, answers and writes requests
// (keep-alive and pipelining) through one shared Endpoint. A connection belongs either to the
// epoll set or to one worker (EPOLLONESHOT), never to both.
//
// Limits (all in ServerOptions): request head size and header count (431), payload size (413,
// before the body is read), open connections (503 and close above the limit), idle keep-alive
// timeout (closed silently), request timeout (a request that has started but not fully
// arrived in time gets 408 and the connection is closed).
// stop() (async-signal-safe) stops accepting, answers the requests in flight (with
// "Connection: close"), closes idle connections, and lets run() return within drain_timeout.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tabpilot/serve/endpoint.h"
#include "tabpilot/serve/http_request.h"

namespace tabpilot::serve {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port)
  int threads = 0;  // worker threads; 0: one per core
  HttpLimits limits;
  size_t max_connections = 1024;
  int idle_timeout_ms = 60000;     // keep-alive connection without a request
  int request_timeout_ms = 60000;  // from a request's first byte to its last
  int drain_timeout_ms = 25000;    // after stop(): SageMaker sends SIGKILL 30 s after SIGTERM
};

class HttpServer {
 public:
  // Binds and listens; throws InputError when the address cannot be bound.
  HttpServer(Endpoint& endpoint, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  int threads() const { return threads_; }
  // Serves until stop(); returns once in-flight requests are answered (or drain_timeout).
  void run();
  // Safe from a signal handler and from any thread.
  void stop();

 private:
  struct Connection;
  void accept_all();
  void dispatch(int fd);
  void worker();
  void serve_connection(Connection& c, Endpoint::Scratch& scratch, HttpResponse& response);
  void release(Connection& c, bool close_it);
  void scan_timeouts(bool stopping);
  void close_locked(int fd);

  Endpoint& endpoint_;
  ServerOptions options_;
  int threads_ = 1;
  int listen_fd_ = -1, epoll_fd_ = -1, stop_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  std::mutex mutex_;  // connections_, each connection's busy flag and timers, queue_
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::deque<Connection*> queue_;
  std::condition_variable work_;
  bool workers_exit_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace tabpilot::serve
