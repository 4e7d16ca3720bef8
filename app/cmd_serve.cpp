// `tabpilot serve [DIR]`: the real-time inference endpoint (serve/serve.h). Binds 127.0.0.1
// unless --bind says otherwise; a SageMaker container entry point passes --bind 0.0.0.0.
#include "commands.h"
#include "tabpilot/serve/serve.h"

namespace tabpilot::app {

void add_serve_command(CLI::App& app, Commands& out) {
  auto config = std::make_shared<serve::ServeConfig>();
  auto* sub = app.add_subcommand("serve", "HTTP inference endpoint (SageMaker serving contract)");
  sub->add_option("dir", config->model_dir, "job folder or model folder")->capture_default_str();
  sub->add_option("--bind", config->bind, "address to listen on (0.0.0.0: every interface)")
      ->envname("TABPILOT_BIND")  // docker/Dockerfile sets 0.0.0.0: SageMaker passes only `serve`
      ->capture_default_str();
  sub->add_option_function<int>("--port", [config](int p) { config->port = p; },
                                "TCP port (default: SAGEMAKER_BIND_TO_PORT, else 8080; 0: any free port)");
  sub->add_option("--threads", config->threads, "worker threads (default: one per core)")
      ->check(CLI::Range(0, kMaxThreads));
  sub->add_option_function<double>("--max-payload-mb", [config](double mb) { config->max_payload_mb = mb; },
                                   "payload limit (default: SAGEMAKER_MAX_PAYLOAD_IN_MB, "
                                   "MAX_CONTENT_LENGTH, else 6)");
  sub->add_option_function<std::string>("--output-keys", [config](const std::string& k) { config->output_keys = k; },
                                        "response keys: predicted_label,probability,probabilities,labels "
                                        "(default: SAGEMAKER_INFERENCE_OUTPUT, else predicted_label)");
  sub->add_option("--max-connections", config->max_connections, "open connections")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  sub->add_option("--idle-timeout", config->idle_timeout_s, "seconds a keep-alive connection may idle")
      ->capture_default_str()->check(CLI::Range(1, 86400));
  sub->add_option("--request-timeout", config->request_timeout_s,
                  "seconds for a request to arrive completely (else 408)")
      ->capture_default_str()->check(CLI::Range(1, 86400));
  sub->add_option("--capture", config->capture_dir, "data capture folder (SageMaker JSON lines)");
  sub->add_option("--capture-sampling", config->capture_sampling, "percent of requests captured")
      ->capture_default_str()->check(CLI::Range(0.0, 100.0));
  sub->add_option("--endpoint-name", config->endpoint_name, "endpoint name in capture paths")
      ->capture_default_str();
  out.push_back({sub, [config] { return serve::run_serve(*config); }});
}

}  // namespace tabpilot::app
