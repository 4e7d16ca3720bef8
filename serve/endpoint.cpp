#include "tabpilot/serve/endpoint.h"

#include <nlohmann/json.hpp>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"

namespace tabpilot::serve {
namespace {

InputSchema schema_of(const Pipeline& p) {
  InputSchema s;
  s.names = p.features;
  s.types = p.feature_types;
  s.target = p.target;
  s.missing_markers = p.csv_options().missing_markers;
  return s;
}

void plain(HttpResponse& r, int status, std::string message) {
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(message);
  r.body += '\n';
}

// The response format from an Accept header: the first listed type we produce (q-values are
// not weighed); missing or */* means the default. False: nothing acceptable.
bool negotiate(std::string_view accept, const std::string& fallback, Format* format) {
  if (accept.empty()) return format_from_media_type(fallback, format);
  while (true) {
    const size_t comma = accept.find(',');
    const std::string m = media_type(accept.substr(0, comma));
    if (m == "*/*") return format_from_media_type(fallback, format);
    if (format_from_media_type(m, format)) return true;
    if (comma == std::string_view::npos) return false;
    accept.remove_prefix(comma + 1);
  }
}

}  // namespace

Endpoint::Endpoint(const Pipeline& pipeline, EndpointOptions options, CaptureWriter* capture)
    : pipeline_(pipeline),
      options_(std::move(options)),
      capture_(capture),
      schema_(schema_of(pipeline)),
      encoder_(is_classification(pipeline.task), pipeline.labels, options_.output_keys,
               pipeline.decision_threshold) {
  Format f;
  if (!format_from_media_type(media_type(options_.default_accept), &f))
    throw InputError("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: '" + options_.default_accept +
                     "' is not one of text/csv, application/json, application/jsonlines");
}

void Endpoint::handle(const HttpRequest& request, std::string_view body, Scratch& scratch,
                      HttpResponse& response) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  response.status = 200;
  response.content_type = {};
  response.body.clear();
  const std::string_view path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/invocations") {
    if (request.method != "POST") plain(response, 405, "use POST for /invocations");
    else invoke(request, body, scratch, response);
  } else if (path == "/ping") {
    if (!get) plain(response, 405, "use GET for /ping");
  } else if (path == "/execution-parameters") {
    if (!get) {
      plain(response, 405, "use GET for /execution-parameters");
    } else {
      const size_t mb = (options_.max_payload_bytes + (1u << 20) - 1) >> 20;
      response.content_type = "application/json";
      response.body = nlohmann::json{{"MaxConcurrentTransforms", options_.max_concurrent_transforms},
                                     {"BatchStrategy", "MULTI_RECORD"},
                                     {"MaxPayloadInMB", mb}}.dump();
    }
  } else if (path == "/metrics") {
    if (!get) {
      plain(response, 405, "use GET for /metrics");
    } else {
      response.content_type = "application/json";
      response.body = metrics_json();
    }
  } else {
    plain(response, 404, "no such path; the endpoint serves /ping, /invocations, "
                         "/execution-parameters and /metrics");
  }
  if (response.status >= 500) status_5xx_.fetch_add(1, std::memory_order_relaxed);
  else if (response.status >= 400) status_4xx_.fetch_add(1, std::memory_order_relaxed);
}

void Endpoint::invoke(const HttpRequest& request, std::string_view body, Scratch& scratch,
                      HttpResponse& response) {
  invocations_.fetch_add(1, std::memory_order_relaxed);
  const std::string in_type =
      request.content_type.empty() ? "text/csv" : media_type(request.content_type);
  Format in_format;
  if (!format_from_media_type(in_type, &in_format)) {
    plain(response, 415, "'" + in_type + "' is an unsupported content type.");
    return;
  }
  Format out_format;
  if (!negotiate(request.accept, options_.default_accept, &out_format)) {
    plain(response, 406, "'" + std::string(request.accept) + "' is an unsupported accept type.");
    return;
  }
  try {
    switch (in_format) {
      case Format::kCsv: parse_csv_body(body, scratch.table); break;
      case Format::kJson: parse_json_body(body, scratch.table); break;
      case Format::kJsonLines: parse_jsonlines_body(body, scratch.table); break;
    }
    const Table& table = scratch.table.table();
    const std::vector<float> predictions = pipeline_.predict(table);
    encoder_.encode(predictions, table.num_rows, out_format, response.body);
    response.content_type = content_type_of(out_format);
    records_.fetch_add(table.num_rows, std::memory_order_relaxed);
  } catch (const BadRequest& e) {
    plain(response, 400, e.what());
    return;
  } catch (const InputError& e) {
    plain(response, 400, e.what());
    return;
  } catch (const std::exception& e) {
    log::warn(std::string("invocation failed: ") + e.what());
    plain(response, 500, "internal error while predicting; see the endpoint log");
    return;
  }
  if (capture_ != nullptr && capture_->sample()) {
    CaptureEvent event;
    event.input_content_type = request.content_type.empty() ? "text/csv" : std::string(request.content_type);
    event.input_data.assign(body);
    event.output_content_type = std::string(content_type_of(out_format));
    event.output_data = response.body;
    event.inference_id.assign(request.inference_id);
    event.custom_attributes.assign(request.custom_attributes);
    event.unix_time = unix_now();
    capture_->offer(std::move(event));
  }
}

std::string Endpoint::metrics_json() const {
  nlohmann::json j = {{"requests", requests_.load()},
                      {"invocations", invocations_.load()},
                      {"records_predicted", records_.load()},
                      {"responses_4xx", status_4xx_.load()},
                      {"responses_5xx", status_5xx_.load()}};
  if (capture_ != nullptr) {
    const CaptureCounts c = capture_->counts();
    j["capture"] = {{"written", c.written},
                    {"dropped_queue_full", c.dropped_queue_full},
                    {"dropped_write_failed", c.dropped_write_failed}};
  }
  return j.dump();
}

}  // namespace tabpilot::serve
