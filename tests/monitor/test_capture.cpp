// Data capture records in the three encodings, and bad lines counted rather than fatal.
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_paths.h"
#include "tabpilot/common/error.h"
#include "tabpilot/monitor/capture.h"

using namespace tabpilot::monitor;
using tabpilot::testing::scratch_dir;

namespace {

const std::vector<std::string> kNames = {"a", "b", "c"};

nlohmann::json record(const std::string& data, const std::string& encoding,
                      const std::string& type = "text/csv") {
  return {{"captureData",
           {{"endpointInput",
             {{"observedContentType", type}, {"mode", "INPUT"}, {"data", data}, {"encoding", encoding}}},
            {"endpointOutput",
             {{"observedContentType", "text/csv"}, {"mode", "OUTPUT"}, {"data", "1"}, {"encoding", "CSV"}}}}},
          {"eventMetadata", {{"eventId", "e1"}, {"inferenceTime", "2024-01-01T00:00:00Z"}}},
          {"eventVersion", "0"}};
}

std::string base64(const std::string& s) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const uint32_t v = uint8_t(s[i]) << 16 | uint8_t(s[i + 1]) << 8 | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(abc[v >> k & 63]);
  }
  if (i + 1 == s.size()) {
    const uint32_t v = uint8_t(s[i]) << 16;
    out += std::string{abc[v >> 18 & 63], abc[v >> 12 & 63]} + "==";
  } else if (i + 2 == s.size()) {
    const uint32_t v = uint8_t(s[i]) << 16 | uint8_t(s[i + 1]) << 8;
    out += std::string{abc[v >> 18 & 63], abc[v >> 12 & 63], abc[v >> 6 & 63]} + "=";
  }
  return out;
}

}  // namespace

TEST(Capture, CsvRecordWithSeveralRows) {
  EXPECT_EQ(capture_record_csv(record("1,2,x\n3,4,y", "CSV"), kNames), "1,2,x\n3,4,y\n");
}

TEST(Capture, JsonRecordForms) {
  EXPECT_EQ(capture_record_csv(record(R"({"instances":[[1,2,"x"],[3,4.5,"y z"]]})", "JSON",
                                      "application/json"), kNames),
            "1,2,x\n3,4.5,y z\n");
  EXPECT_EQ(capture_record_csv(record(R"({"instances":[{"features":[1,null,"a,b"]}]})", "JSON"),
                               kNames),
            "1,,\"a,b\"\n");
  // Objects keyed by name follow the baseline's column order; absent names are missing.
  EXPECT_EQ(capture_record_csv(record(R"({"c":"q","a":7})", "JSON"), kNames), "7,,q\n");
  // JSON lines.
  EXPECT_EQ(capture_record_csv(record("[1,2,\"x\"]\n[5,6,\"w\"]\n", "JSON"), kNames),
            "1,2,x\n5,6,w\n");
}

TEST(Capture, Base64OfCsvAndJson) {
  EXPECT_EQ(base64_decode(base64("hello, world!")), "hello, world!");
  EXPECT_EQ(base64_decode(base64("ab")), "ab");
  EXPECT_EQ(capture_record_csv(record(base64("1,2,x\n"), "BASE64", "application/octet-stream"),
                               kNames),
            "1,2,x\n");
  EXPECT_EQ(capture_record_csv(
                record(base64(R"({"instances":[[9,8,"z"]]})"), "BASE64", "application/json"), kNames),
            "9,8,z\n");
  EXPECT_THROW(base64_decode("ab$d"), tabpilot::InputError);
}

TEST(Capture, SplitRowsRespectsQuotes) {
  const CsvRowCount r = split_csv_rows("1,\"a,\nb\",3\r\n\n4,5,6");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.fields, (std::vector<size_t>{3, 3}));
  EXPECT_EQ(r.rows[0], "1,\"a,\nb\",3");
}

TEST(Capture, FolderCountsBadLinesAndNamesTheFirst) {
  const auto dir = scratch_dir("capture");
  std::filesystem::create_directories(dir / "ep" / "AllTraffic" / "2024" / "01" / "01" / "00");
  {
    std::ofstream f(dir / "ep" / "AllTraffic" / "2024" / "01" / "01" / "00" / "a.jsonl");
    f << record("1,2,x", "CSV").dump() << "\n";                       // line 1
    f << "{not json\n";                                                // line 2: bad
    f << record("3,4,y\n5,6,z", "CSV").dump() << "\n";               // line 3
    f << nlohmann::json{{"eventVersion", "0"}}.dump() << "\n";         // line 4: bad
    f << record("7,8", "CSV").dump() << "\n";                          // line 5: wrong width
    f << record(base64("9,10,w"), "BASE64", "text/plain").dump() << "\n";  // line 6
  }
  std::ofstream(dir / "ignored.txt") << "not a capture file\n";
  const CaptureRows r = read_capture_dir(dir, kNames);
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(r.records, 6u);
  EXPECT_EQ(r.bad_records, 3u);
  EXPECT_EQ(r.columns, 3u);
  EXPECT_EQ(r.rows, 4u);
  EXPECT_EQ(r.csv, "1,2,x\n3,4,y\n5,6,z\n9,10,w\n");
  EXPECT_NE(r.first_bad.find("a.jsonl:2: not JSON"), std::string::npos) << r.first_bad;

  EXPECT_THROW(read_capture_dir(dir / "nope", kNames), tabpilot::InputError);
  const auto empty = scratch_dir("capture-empty");
  EXPECT_THROW(read_capture_dir(empty, kNames), tabpilot::InputError);
}

TEST(Capture, FirstBadIsTheEarliestWhateverItsKind) {
  const auto dir = scratch_dir("capture-order");
  {
    std::ofstream f(dir / "b.jsonl");
    f << record("1,2", "CSV").dump() << "\n";      // line 1: the odd width, found last
    f << record("1,2,3", "CSV").dump() << "\n";
    f << record("4,5,6", "CSV").dump() << "\n";
    f << "]\n";                                     // line 4: not JSON, found first
  }
  const CaptureRows r = read_capture_dir(dir, kNames);
  EXPECT_EQ(r.bad_records, 2u);
  EXPECT_NE(r.first_bad.find("b.jsonl:1: 2 fields per row"), std::string::npos) << r.first_bad;
}
