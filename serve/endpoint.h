// The inference endpoint's routes, independent of sockets: a parsed request and its body in,
// a status and a body out. GET /ping, POST /invocations, GET /execution-parameters and
// GET /metrics (request, record and capture counters as JSON). One Endpoint is shared by every
// worker thread; each worker owns a Scratch that it reuses from request to request.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "tabpilot/serve/capture.h"
#include "tabpilot/serve/http_request.h"
#include "tabpilot/serve/request_body.h"
#include "tabpilot/serve/response_body.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot::serve {

struct EndpointOptions {
  std::vector<OutputKey> output_keys = {OutputKey::kPredictedLabel};
  // Missing or */* Accept: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else text/csv.
  std::string default_accept = "text/csv";
  size_t max_payload_bytes = 6 * 1024 * 1024;
  int max_concurrent_transforms = 1;  // reported by /execution-parameters: the worker count
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type;  // empty: none
  std::string body;
};

class Endpoint {
 public:
  struct Scratch {
    explicit Scratch(const InputSchema& schema) : table(schema) {}
    TableBuilder table;
  };

  // `pipeline` and `capture` (may be null) must outlive the endpoint.
  Endpoint(const Pipeline& pipeline, EndpointOptions options, CaptureWriter* capture);
  std::unique_ptr<Scratch> make_scratch() const { return std::make_unique<Scratch>(schema_); }

  // Fills `response` (its body's capacity is reused). Never throws for a bad request.
  void handle(const HttpRequest& request, std::string_view body, Scratch& scratch,
              HttpResponse& response);
  std::string metrics_json() const;
  const InputSchema& schema() const { return schema_; }

 private:
  void invoke(const HttpRequest& request, std::string_view body, Scratch& scratch,
              HttpResponse& response);

  const Pipeline& pipeline_;
  EndpointOptions options_;
  CaptureWriter* capture_;
  InputSchema schema_;
  ResponseEncoder encoder_;
  std::atomic<uint64_t> requests_{0}, invocations_{0}, records_{0}, status_4xx_{0}, status_5xx_{0};
};

}  // namespace tabpilot::serve
