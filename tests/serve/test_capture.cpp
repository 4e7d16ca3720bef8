// Data capture: records in SageMaker's schema (contract 5.1) in hourly files, sampling, and
// a destination that cannot be written (drops are counted, requests still succeed).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "serve/serve_support.h"

using namespace tabpilot;
using namespace tabpilot::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::pair<fs::path, json>> read_capture(const fs::path& dir) {
  std::vector<std::pair<fs::path, json>> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) out.emplace_back(e.path(), json::parse(line));
  }
  return out;
}

const std::string kRow = "Dream,46,17,195,3800,FEMALE\n";

}  // namespace

TEST(Capture, RecordsFollowTheSageMakerSchema) {
  const fs::path dir = scratch_dir("capture");
  serve::CaptureOptions co;
  co.dir = dir.string();
  co.endpoint = "my-endpoint";
  TestServer s(penguins_job(), {}, {}, &co);
  Client c(s.port());
  ASSERT_EQ(c.request("POST", "/invocations", kRow, {{"X-Amzn-SageMaker-Inference-Id", "req-1"}}).status, 200);
  ASSERT_EQ(c.request("POST", "/invocations", R"({"instances":[{"island":"Dream"}]})",
                      {{"Content-Type", "application/json"}, {"Accept", "application/json"}})
                .status,
            200);
  s.capture->flush();
  const auto records = read_capture(dir);
  ASSERT_EQ(records.size(), 2u);
  const std::regex path_re(".*/my-endpoint/AllTraffic/\\d{4}/\\d{2}/\\d{2}/\\d{2}/[^/]+\\.jsonl$");
  const std::regex uuid_re("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::regex time_re("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
  for (const auto& [path, r] : records) {
    EXPECT_TRUE(std::regex_match(path.string(), path_re)) << path;
    EXPECT_EQ(r["eventVersion"], "0");
    EXPECT_TRUE(std::regex_match(r["eventMetadata"]["eventId"].get<std::string>(), uuid_re));
    const std::string when = r["eventMetadata"]["inferenceTime"];
    EXPECT_TRUE(std::regex_match(when, time_re)) << when;
    // The hourly folder is the record's own UTC hour.
    const std::string hour_dir = when.substr(0, 4) + "/" + when.substr(5, 2) + "/" + when.substr(8, 2) + "/" + when.substr(11, 2);
    EXPECT_NE(path.string().find(hour_dir), std::string::npos);
    EXPECT_EQ(r["captureData"]["endpointInput"]["mode"], "INPUT");
    EXPECT_EQ(r["captureData"]["endpointOutput"]["mode"], "OUTPUT");
  }
  const json& csv = records[0].second;
  EXPECT_EQ(csv["eventMetadata"]["inferenceId"], "req-1");
  EXPECT_EQ(csv["captureData"]["endpointInput"]["observedContentType"], "text/csv");
  EXPECT_EQ(csv["captureData"]["endpointInput"]["encoding"], "CSV");
  EXPECT_EQ(csv["captureData"]["endpointInput"]["data"], kRow);
  EXPECT_EQ(csv["captureData"]["endpointOutput"]["encoding"], "CSV");
  const json& js = records[1].second;
  EXPECT_FALSE(js["eventMetadata"].contains("inferenceId"));
  EXPECT_EQ(js["captureData"]["endpointInput"]["encoding"], "JSON");
  EXPECT_EQ(js["captureData"]["endpointOutput"]["observedContentType"], "application/json");
  EXPECT_TRUE(json::parse(js["captureData"]["endpointOutput"]["data"].get<std::string>()).contains("predictions"));
}

TEST(Capture, SamplingZeroWritesNothingAndHalfWritesAboutHalf) {
  for (double percent : {0.0, 50.0}) {
    const fs::path dir = scratch_dir("capture-sampling");
    serve::CaptureOptions co;
    co.dir = dir.string();
    co.sampling_percent = percent;
    TestServer s(penguins_job(), {}, {}, &co);
    Client c(s.port());
    const int n = 400;
    for (int i = 0; i < n; ++i) ASSERT_EQ(c.request("POST", "/invocations", kRow).status, 200);
    s.capture->flush();
    const size_t got = read_capture(dir).size();
    if (percent == 0) {
      EXPECT_EQ(got, 0u);
      EXPECT_FALSE(fs::exists(dir / "tabpilot"));
    } else {
      // Binomial(400, 0.5): sd 10; 150..250 is a 5-sigma band.
      EXPECT_GT(got, 150u);
      EXPECT_LT(got, 250u);
    }
  }
}

TEST(Capture, UnwritableDestinationDropsAndCountsWithoutFailingRequests) {
  // A path under a regular file: mkdir fails even for root.
  const fs::path file = write_temp_file("not-a-dir", "x");
  serve::CaptureOptions co;
  co.dir = (file / "capture").string();
  TestServer s(penguins_job(), {}, {}, &co);
  Client c(s.port());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.request("POST", "/invocations", kRow).status, 200);
  s.capture->flush();
  EXPECT_EQ(c.request("GET", "/ping").status, 200);
  const json m = json::parse(c.request("GET", "/metrics").body);
  EXPECT_EQ(m["capture"]["dropped_write_failed"], 5);
  EXPECT_EQ(m["capture"]["written"], 0);
}

TEST(Capture, FullQueueDropsAndCounts) {
  const fs::path dir = scratch_dir("capture-queue");
  serve::CaptureOptions co;
  co.dir = dir.string();
  co.queue_capacity = 0;  // every offer finds the queue full
  serve::CaptureWriter w(co);
  serve::CaptureEvent e;
  EXPECT_FALSE(w.offer(e));
  EXPECT_EQ(w.counts().dropped_queue_full, 1u);
}

TEST(Capture, NonUtf8DataIsBase64) {
  serve::CaptureEvent e;
  e.input_content_type = "text/csv";
  e.input_data = std::string("a\xff,b\n");
  e.output_content_type = "text/csv";
  e.output_data = "x\n";
  const json r = json::parse(serve::capture_record(e, "id"));
  EXPECT_EQ(r["captureData"]["endpointInput"]["encoding"], "BASE64");
  EXPECT_EQ(r["captureData"]["endpointInput"]["data"], "Yf8sYgo=");
}
