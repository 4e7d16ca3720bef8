// The request parsers on byte buffers: HTTP head, CSV, JSON and JSON lines bodies. The CSV
// body parser is checked against the library's CSV reader (parse_csv with the same forced
// types) as the independent oracle: both must build the same table.
#include <gtest/gtest.h>

#include <cmath>

#include "tabpilot/data/csv.h"
#include "tabpilot/serve/http_request.h"
#include "tabpilot/serve/request_body.h"
#include "tabpilot/serve/response_body.h"

using namespace tabpilot;
using namespace tabpilot::serve;

namespace {

HeadResult parse(const std::string& s, HttpRequest* r, HttpLimits limits = {}) {
  return parse_request_head(s, limits, r);
}

InputSchema schema() {
  InputSchema s;
  s.names = {"island", "bill", "when", "note"};
  s.types = {ColumnType::kCategorical, ColumnType::kNumeric, ColumnType::kDatetime, ColumnType::kText};
  s.target = "species";
  return s;
}

void expect_same_table(const Table& a, const Table& b) {
  ASSERT_EQ(a.num_rows, b.num_rows);
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (size_t c = 0; c < a.columns.size(); ++c)
    for (size_t r = 0; r < a.num_rows; ++r)
      EXPECT_EQ(a.columns[c].value_string(r), b.columns[c].value_string(r))
          << "column " << a.columns[c].name << " row " << r;
}

}  // namespace

TEST(HttpHead, ParsesRequestLineAndKnownHeaders) {
  HttpRequest r;
  const std::string s =
      "POST /invocations?x=1 HTTP/1.1\r\nHost: a\r\ncontent-type:  text/csv; charset=utf-8 \r\n"
      "Accept: application/json\r\nContent-Length: 5\r\nX-Amzn-SageMaker-Inference-Id: abc\r\n"
      "X-Unknown: ignored\r\n\r\nhello";
  ASSERT_EQ(parse(s, &r).status, HeadStatus::kComplete);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/invocations");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(media_type(r.content_type), "text/csv");
  EXPECT_EQ(r.accept, "application/json");
  EXPECT_EQ(r.inference_id, "abc");
  EXPECT_EQ(r.content_length, 5u);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(s.substr(r.head_bytes), "hello");
}

TEST(HttpHead, IncompleteUntilTheBlankLine) {
  HttpRequest r;
  EXPECT_EQ(parse("GET /ping HTTP/1.1\r\nHost: a\r\n", &r).status, HeadStatus::kIncomplete);
  EXPECT_EQ(parse("GET /pi", &r).status, HeadStatus::kIncomplete);
  EXPECT_EQ(parse("GET /ping HTTP/1.1\n\n", &r).status, HeadStatus::kComplete);  // bare LF
}

TEST(HttpHead, ErrorsCarryTheirStatus) {
  HttpRequest r;
  EXPECT_EQ(parse("GARBAGE\r\n\r\n", &r).http_status, 400);
  EXPECT_EQ(parse("GET ping HTTP/1.1\r\n\r\n", &r).http_status, 400);
  EXPECT_EQ(parse("GET /ping HTTP/2.0\r\n\r\n", &r).http_status, 505);
  EXPECT_EQ(parse("GET /ping HTTP/1.1\r\nContent-Length: x\r\n\r\n", &r).http_status, 400);
  EXPECT_EQ(parse("GET /ping HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r).http_status, 400);
  EXPECT_EQ(parse("GET /ping HTTP/1.1\r\n folded\r\n\r\n", &r).http_status, 400);
  EXPECT_EQ(parse("POST /i HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r).http_status, 501);
  HttpLimits small;
  small.max_body_bytes = 10;
  EXPECT_EQ(parse("POST /i HTTP/1.1\r\nContent-Length: 11\r\n\r\n", &r, small).http_status, 413);
  small.max_headers = 2;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", &r, small).http_status, 431);
  small.max_head_bytes = 32;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nx: " + std::string(40, 'a'), &r, small).http_status, 431);
}

TEST(HttpHead, ConnectionSemantics) {
  HttpRequest r;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &r).status, HeadStatus::kComplete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r).status, HeadStatus::kComplete);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r).status, HeadStatus::kComplete);
  EXPECT_FALSE(r.keep_alive);
}

TEST(CsvBody, MatchesTheCsvReaderWithForcedTypes) {
  const InputSchema s = schema();
  const std::string body =
      "Biscoe, 39.1 ,2020-01-31,\"a note, with a comma\"\r\n"
      "\n"
      "Dream,NA,2021-02-03T04:05:06Z,\"say \"\"hi\"\"\"\n"
      "Biscoe,-1e3,,plain\n"
      "?,+2.5,2020-01-01,NA";
  TableBuilder b(s);
  parse_csv_body(body, b);
  CsvOptions o;
  for (size_t i = 0; i < s.names.size(); ++i) o.type_overrides[s.names[i]] = s.types[i];
  o.never_id = s.names;
  const Table want = parse_csv("island,bill,when,note\n" + body, "oracle", o);
  expect_same_table(b.table(), want);
  EXPECT_EQ(b.table().columns[3].text[1], "say \"hi\"");
}

TEST(CsvBody, RejectsWrongWidthAndBadNumbers) {
  const InputSchema s = schema();
  TableBuilder b(s);
  try {
    parse_csv_body("Biscoe,1,2020-01-01,x\nBiscoe,1,2020-01-01\n", b);
    FAIL();
  } catch (const BadRequest& e) {
    EXPECT_NE(std::string(e.what()).find("record 2: expected 4 values"), std::string::npos) << e.what();
  }
  try {
    parse_csv_body("Biscoe,abc,2020-01-01,x\n", b);
    FAIL();
  } catch (const BadRequest& e) {
    EXPECT_NE(std::string(e.what()).find("record 1, column 'bill': 'abc' is not a number"), std::string::npos);
  }
  EXPECT_THROW(parse_csv_body("Biscoe,1,2020-01-01,x,extra\n", b), BadRequest);
  EXPECT_THROW(parse_csv_body("Biscoe,1e999,2020-01-01,x\n", b), BadRequest);
  EXPECT_THROW(parse_csv_body("Biscoe,1,not a date,x\n", b), BadRequest);
  EXPECT_THROW(parse_csv_body("\"unterminated,1,2020-01-01,x\n", b), BadRequest);
  EXPECT_THROW(parse_csv_body("\n\n", b), BadRequest);
}

TEST(JsonBody, AllInstanceShapesGiveTheSameTable) {
  const InputSchema s = schema();
  TableBuilder csv(s), a(s), b(s), c(s), lines(s);
  parse_csv_body("Biscoe,39.5,2020-01-31,hello\nDream,,,\n", csv);
  parse_json_body(R"({"instances":[["Biscoe",39.5,"2020-01-31","hello"],["Dream",null,null,null]]})", a);
  parse_json_body(R"({"instances":[{"features":["Biscoe","39.5","2020-01-31","hello"]},
                                   {"features":["Dream","","",""]}]})", b);
  parse_json_body(R"({"instances":[{"note":"hello","island":"Biscoe","bill":39.5,"when":"2020-01-31","species":"x"},
                                   {"island":"Dream"}]})", c);
  parse_jsonlines_body("[\"Biscoe\",39.5,\"2020-01-31\",\"hello\"]\r\n\n{\"island\":\"Dream\"}\n", lines);
  for (const TableBuilder* t : {&a, &b, &c, &lines}) expect_same_table(t->table(), csv.table());
}

TEST(JsonBody, Rejects) {
  const InputSchema s = schema();
  TableBuilder b(s);
  EXPECT_THROW(parse_json_body("{", b), BadRequest);
  EXPECT_THROW(parse_json_body(R"({"rows":[]})", b), BadRequest);
  EXPECT_THROW(parse_json_body(R"({"instances":[["Biscoe",1]]})", b), BadRequest);
  EXPECT_THROW(parse_json_body(R"({"instances":[{"islnd":"Biscoe"}]})", b), BadRequest);
  EXPECT_THROW(parse_json_body(R"({"instances":[["Biscoe",[1],null,null]]})", b), BadRequest);
  EXPECT_THROW(parse_json_body(std::string(100, '[') + std::string(100, ']'), b), BadRequest);
  EXPECT_THROW(parse_jsonlines_body("[\"Biscoe\",1,null,null]\nnot json\n", b), BadRequest);
}

TEST(ResponseBody, KeysAndFormats) {
  auto keys = parse_output_keys(" Predicted_Label ,probability,PROBABILITIES, labels");
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_THROW(parse_output_keys("predicted_label,score"), std::exception);
  EXPECT_EQ(parse_output_keys("").size(), 1u);
  ResponseEncoder e(true, {"a", "b,c", "d"}, keys);
  std::string out;
  e.encode({0.25f, 0.5f, 0.25f}, 1, Format::kCsv, out);
  EXPECT_EQ(out, "\"b,c\",0.5,\"[0.25, 0.5, 0.25]\",\"['a', 'b,c', 'd']\"\n");
  out.clear();
  e.encode({0.25f, 0.5f, 0.25f}, 1, Format::kJson, out);
  EXPECT_EQ(out, R"({"predictions":[{"predicted_label":"b,c","probability":0.5,"probabilities":[0.25,0.5,0.25],"labels":["a","b,c","d"]}]})");
  out.clear();
  ResponseEncoder reg(false, {}, {OutputKey::kPredictedLabel, OutputKey::kProbability});
  reg.encode({1.5f, 2.0f}, 2, Format::kJsonLines, out);
  EXPECT_EQ(out, "{\"predicted_label\":1.5,\"probability\":null}\n{\"predicted_label\":2,\"probability\":null}\n");
  out.clear();
  reg.encode({1.5f}, 1, Format::kCsv, out);
  EXPECT_EQ(out, "1.5,nan\n");
}
