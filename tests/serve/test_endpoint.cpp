// The endpoint over real HTTP on loopback, with real models trained from fixtures: every route
// and status code, every content type in and out, predictions against batch predict
// (predict_csv, the independent path through a file), limits, timeouts and concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "serve/serve_support.h"
#include "tabpilot/common/files.h"

using namespace tabpilot;
using namespace tabpilot::testing;
using nlohmann::json;

namespace {

// The fixture's test rows without the target, as headerless CSV lines.
std::vector<std::string> feature_rows(const std::string& fixture, const std::string& target) {
  std::ifstream in(test_data(fixture) / "test.csv");
  std::string header, line;
  std::getline(in, header);
  std::vector<std::string> names;
  std::stringstream hs(header);
  for (std::string n; std::getline(hs, n, ',');) names.push_back(n);
  std::vector<std::string> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ls(line);
    std::string out, v;
    for (size_t i = 0; std::getline(ls, v, ','); ++i) {
      if (names[i] == target) continue;
      out += (out.empty() ? "" : ",") + v;
    }
    if (line.back() == ',') out += ",";
    rows.push_back(out);
  }
  return rows;
}

std::vector<std::vector<std::string>> read_predict_csv(const std::filesystem::path& job,
                                                       const std::string& fixture) {
  const auto out = scratch_dir("serve-oracle") / "pred.csv";
  predict_csv(job.string(), (test_data(fixture) / "test.csv").string(), out.string());
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

std::string join(const std::vector<std::string>& rows) {
  std::string s;
  for (const auto& r : rows) s += r + "\n";
  return s;
}

}  // namespace

TEST(Endpoint, PingExecutionParametersMetricsAndUnknownPaths) {
  TestServer s(penguins_job());
  Client c(s.port());
  Response r = c.request("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  r = c.request("GET", "/execution-parameters");
  ASSERT_EQ(r.status, 200);
  const json p = json::parse(r.body);
  EXPECT_EQ(p["MaxConcurrentTransforms"], 2);
  EXPECT_EQ(p["BatchStrategy"], "MULTI_RECORD");
  EXPECT_EQ(p["MaxPayloadInMB"], 6);
  EXPECT_EQ(c.request("GET", "/nope").status, 404);
  EXPECT_EQ(c.request("POST", "/ping").status, 405);
  EXPECT_EQ(c.request("GET", "/invocations").status, 405);
  r = c.request("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["responses_4xx"], 3);
}

TEST(Endpoint, ClassificationPredictionsEqualBatchPredict) {
  const auto job = penguins_job();
  const auto rows = feature_rows("penguins", "species");
  const auto oracle = read_predict_csv(job, "penguins");
  ASSERT_EQ(rows.size(), oracle.size());
  serve::EndpointOptions eo;
  eo.output_keys = serve::parse_output_keys("predicted_label,probability,probabilities,labels");
  TestServer s(job, eo);
  Client c(s.port());
  // All rows in one CSV request, then JSON, then JSON lines: the same answers.
  Response r = c.request("POST", "/invocations", join(rows), {{"Content-Type", "text/csv"}, {"Accept", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const json preds = json::parse(r.body)["predictions"];
  ASSERT_EQ(preds.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(preds[i]["predicted_label"], oracle[i][0]) << "row " << i;
    EXPECT_NEAR(preds[i]["probability"].get<double>(), std::stod(oracle[i][1]), 1e-5);
    for (size_t k = 0; k < preds[i]["labels"].size(); ++k)
      EXPECT_NEAR(preds[i]["probabilities"][k].get<double>(), std::stod(oracle[i][2 + k]), 1e-5);
  }
  EXPECT_EQ(preds[0]["labels"], json(s.pipeline.labels));

  // One row per request, CSV out: one line per record, keys in order, lists quoted.
  r = c.request("POST", "/invocations", rows[0] + "\n", {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/csv");
  EXPECT_EQ(r.body.substr(0, r.body.find(',')), oracle[0][0]);
  EXPECT_NE(r.body.find(",\"['"), std::string::npos) << r.body;

  // JSON lines in, JSON lines out; */* falls back to the default (text/csv).
  json instance = json::array();
  std::stringstream ls(rows[1]);
  for (std::string v; std::getline(ls, v, ',');) instance.push_back(v);
  r = c.request("POST", "/invocations", instance.dump() + "\n" + instance.dump() + "\n",
                {{"Content-Type", "application/jsonlines"}, {"Accept", "application/jsonlines"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body.substr(0, r.body.find('\n')))["predicted_label"], oracle[1][0]);
  r = c.request("POST", "/invocations", rows[1], {{"Content-Type", "text/csv; charset=utf-8"}, {"Accept", "*/*"}});
  EXPECT_EQ(r.headers["content-type"], "text/csv");
}

TEST(Endpoint, RegressionPredictionsEqualBatchPredict) {
  const auto job = auto_mpg_job();
  const auto rows = feature_rows("auto_mpg", "mpg");
  const auto oracle = read_predict_csv(job, "auto_mpg");
  serve::EndpointOptions eo;
  eo.default_accept = "application/json";  // SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
  TestServer s(job, eo);
  Client c(s.port());
  Response r = c.request("POST", "/invocations", join(rows));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const json preds = json::parse(r.body)["predictions"];
  ASSERT_EQ(preds.size(), oracle.size());
  for (size_t i = 0; i < preds.size(); ++i)
    EXPECT_NEAR(preds[i]["predicted_label"].get<double>(), std::stod(oracle[i][0]),
                1e-5 * std::max(1.0, std::fabs(std::stod(oracle[i][0]))));
}

TEST(Endpoint, ClientErrors) {
  serve::ServerOptions so;
  so.limits.max_body_bytes = 1000;
  so.limits.max_headers = 20;
  TestServer s(penguins_job(), {}, so);
  {
    Client c(s.port());
    Response r = c.request("POST", "/invocations", "Dream,1,2\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("record 1: expected 6 values"), std::string::npos) << r.body;
    r = c.request("POST", "/invocations", "Dream,abc,17,195,3800,FEMALE\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("column 'bill_length_mm'"), std::string::npos) << r.body;
    r = c.request("POST", "/invocations", "x", {{"Content-Type", "application/x-npy"}});
    EXPECT_EQ(r.status, 415);
    EXPECT_EQ(r.body, "'application/x-npy' is an unsupported content type.\n");
    r = c.request("POST", "/invocations", "Dream,46,17,195,3800,FEMALE\n", {{"Accept", "application/xml"}});
    EXPECT_EQ(r.status, 406);
    r = c.request("GET", "/ping");  // the connection survives client errors
    EXPECT_EQ(r.status, 200);
  }
  {
    Client c(s.port());
    c.send_raw("POST /invocations HTTP/1.1\r\nContent-Length: 1001\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 413);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    Client c(s.port());
    std::string req = "GET /ping HTTP/1.1\r\n";
    for (int i = 0; i < 30; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
    c.send_raw(req + "\r\n");
    EXPECT_EQ(c.read_response().status, 431);
  }
  {
    Client c(s.port());
    c.send_raw("GET /ping HTTP/1.1\r\nX-Big: " + std::string(20000, 'a'));
    EXPECT_EQ(c.read_response().status, 431);
  }
}

TEST(Endpoint, SlowRequestGets408AndIdleConnectionsClose) {
  serve::ServerOptions so;
  so.request_timeout_ms = 300;
  so.idle_timeout_ms = 300;
  TestServer s(penguins_job(), {}, so);
  Client slow(s.port());
  slow.send_raw("POST /invocations HTTP/1.1\r\nContent-Length: 100\r\n\r\nDream,");
  Response r = slow.read_response(3000);
  EXPECT_EQ(r.status, 408);
  Client idle(s.port());
  EXPECT_EQ(idle.request("GET", "/ping").status, 200);
  EXPECT_TRUE(idle.closed_by_server(3000));
}

TEST(Endpoint, KeepAlivePipeliningAndExpectContinue) {
  TestServer s(penguins_job());
  Client c(s.port());
  const std::string body = "Dream,46,17,195,3800,FEMALE\n";
  std::string two;
  for (int i = 0; i < 2; ++i)
    two += "POST /invocations HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  c.send_raw(two + "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_EQ(c.read_response().status, 200);
  Response last = c.read_response();
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.headers["connection"], "close");
  EXPECT_TRUE(c.closed_by_server());

  Client e(s.port());
  e.send_raw("POST /invocations HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  e.send_raw(body);
  EXPECT_EQ(e.read_response().status, 200);  // read_response skips the interim 100
}

TEST(Endpoint, ConcurrentClientsGetTheirOwnAnswers) {
  const auto job = penguins_job();
  const auto rows = feature_rows("penguins", "species");
  const auto oracle = read_predict_csv(job, "penguins");
  serve::ServerOptions so;
  so.threads = 4;
  TestServer s(job, {}, so);
  std::atomic<int> wrong{0}, done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      Client c(s.port());
      for (size_t i = t; i < rows.size(); i += 3) {
        Response r = c.request("POST", "/invocations", rows[i] + "\n");
        if (r.status != 200 || r.body != oracle[i][0] + "\n") ++wrong;
        ++done;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(done.load(), 100);
}

TEST(Endpoint, ConnectionLimitAnswers503) {
  serve::ServerOptions so;
  so.max_connections = 2;
  TestServer s(penguins_job(), {}, so);
  Client a(s.port()), b(s.port());
  EXPECT_EQ(a.request("GET", "/ping").status, 200);
  EXPECT_EQ(b.request("GET", "/ping").status, 200);
  Client c(s.port());
  EXPECT_EQ(c.read_response().status, 503);
}
