// `tabpilot serve`: loads a model (checksums verified) and runs the inference endpoint until
// SIGTERM or SIGINT. Settings come from the command line, else from SageMaker's environment
// (SAGEMAKER_BIND_TO_PORT, SAGEMAKER_INFERENCE_OUTPUT, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT,
// SAGEMAKER_MAX_PAYLOAD_IN_MB, MAX_CONTENT_LENGTH), else defaults. The address is never
// guessed: 127.0.0.1 unless `bind` says otherwise (the container entry point passes 0.0.0.0).
#pragma once
#include <optional>
#include <string>

namespace tabpilot::serve {

struct ServeConfig {
  std::string model_dir = "/opt/ml/model";  // a job folder or a model folder
  std::string bind = "127.0.0.1";
  std::optional<int> port;                // else SAGEMAKER_BIND_TO_PORT, else 8080
  int threads = 0;                        // 0: one per core
  std::optional<double> max_payload_mb;   // else SAGEMAKER_MAX_PAYLOAD_IN_MB / MAX_CONTENT_LENGTH, else 6
  std::optional<std::string> output_keys; // else SAGEMAKER_INFERENCE_OUTPUT, else predicted_label
  size_t max_connections = 1024;
  int idle_timeout_s = 60;
  int request_timeout_s = 60;
  std::string capture_dir;                // empty: no capture
  double capture_sampling = 100;          // percent
  std::string endpoint_name = "tabpilot";
};

// Runs until a stop signal; returns the exit code (0 after a graceful stop). Throws InputError
// for a missing or changed model and for bad settings.
int run_serve(const ServeConfig& config);

}  // namespace tabpilot::serve
