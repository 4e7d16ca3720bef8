#include "tabpilot/serve/serve.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/serve/http_server.h"
#include "tabpilot/trainer/pipeline.h"

namespace fs = std::filesystem;

namespace tabpilot::serve {
namespace {

HttpServer* g_server = nullptr;

void on_stop_signal(int) {
  if (g_server != nullptr) g_server->stop();
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

double env_number(const char* name, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw InputError(std::string(name) + ": expected a number, got '" + text + "'");
  }
}

size_t payload_limit(const ServeConfig& config) {
  double mb = 6;
  if (config.max_payload_mb) {
    mb = *config.max_payload_mb;
  } else if (auto v = env("SAGEMAKER_MAX_PAYLOAD_IN_MB")) {
    mb = env_number("SAGEMAKER_MAX_PAYLOAD_IN_MB", *v);
  } else if (auto bytes = env("MAX_CONTENT_LENGTH")) {
    mb = env_number("MAX_CONTENT_LENGTH", *bytes) / (1024.0 * 1024.0);
  }
  if (!(mb > 0) || mb > 100)
    throw InputError("payload limit: " + std::to_string(mb) + " MB is outside (0, 100]");
  return static_cast<size_t>(mb * 1024 * 1024);
}

}  // namespace

int run_serve(const ServeConfig& config) {
  const fs::path dir(config.model_dir);
  const fs::path model_dir = fs::exists(dir / "model.json") ? dir : dir / "model";
  if (!fs::exists(model_dir / "model.json"))
    throw InputError(config.model_dir + ": not a job folder or model folder (no model.json)");
  const Pipeline pipeline = Pipeline::load(model_dir);  // verifies every checksum

  int port = 8080;
  if (config.port) port = *config.port;
  else if (auto p = env("SAGEMAKER_BIND_TO_PORT")) port = static_cast<int>(env_number("SAGEMAKER_BIND_TO_PORT", *p));
  if (port < 0 || port > 65535) throw InputError("--port: " + std::to_string(port) + " is not a TCP port");
  if (config.capture_sampling < 0 || config.capture_sampling > 100)
    throw InputError("--capture-sampling: expected 0 to 100, got " + std::to_string(config.capture_sampling));

  ServerOptions server_options;
  server_options.bind = config.bind;
  server_options.port = port;
  server_options.threads = config.threads > 0
                               ? config.threads
                               : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  server_options.limits.max_body_bytes = payload_limit(config);
  server_options.max_connections = config.max_connections;
  server_options.idle_timeout_ms = config.idle_timeout_s * 1000;
  server_options.request_timeout_ms = config.request_timeout_s * 1000;

  EndpointOptions endpoint_options;
  endpoint_options.output_keys = parse_output_keys(
      config.output_keys ? *config.output_keys : env("SAGEMAKER_INFERENCE_OUTPUT").value_or(""));
  endpoint_options.default_accept = env("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT").value_or("text/csv");
  endpoint_options.max_payload_bytes = server_options.limits.max_body_bytes;

  std::unique_ptr<CaptureWriter> capture;
  if (!config.capture_dir.empty()) {
    CaptureOptions o;
    o.dir = config.capture_dir;
    o.sampling_percent = config.capture_sampling;
    o.endpoint = config.endpoint_name;
    capture = std::make_unique<CaptureWriter>(o);
  }

  endpoint_options.max_concurrent_transforms = server_options.threads;
  auto endpoint = std::make_unique<Endpoint>(pipeline, endpoint_options, capture.get());
  HttpServer server(*endpoint, server_options);

  g_server = &server;
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::printf("tabpilot serve: listening on %s:%d (%d threads, model %s)\n", config.bind.c_str(),
              server.port(), server.threads(), model_dir.c_str());
  std::fflush(stdout);
  server.run();
  g_server = nullptr;
  log::info("serve: stopped; counters " + endpoint->metrics_json());
  return 0;
}

}  // namespace tabpilot::serve
