// Endpoint data capture in SageMaker's format (contract 5.1): one JSON object per line,
//   {"captureData":{"endpointInput":{observedContentType, mode "INPUT", data, encoding},
//                   "endpointOutput":{... mode "OUTPUT" ...}},
//    "eventMetadata":{"eventId":<uuid v4>, "inferenceId"?, "inferenceTime":"...Z",
//                     "customAttributes"?}, "eventVersion":"0"}
// in hourly files <dir>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl (UTC).
// encoding: CSV for text/csv, JSON for the JSON types, BASE64 for anything else or data that
// is not UTF-8. Records go through a bounded queue to one writer thread: a request never
// waits on the disk, and a full queue or a failed write drops the record and counts it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace tabpilot::serve {

struct CaptureOptions {
  std::string dir;                // empty: capture off
  double sampling_percent = 100;  // 0..100, per request
  std::string endpoint = "tabpilot";
  std::string variant = "AllTraffic";
  size_t queue_capacity = 10000;  // records waiting for the writer
};

struct CaptureEvent {
  std::string input_content_type, input_data;
  std::string output_content_type, output_data;
  std::string inference_id, custom_attributes;
  double unix_time = 0;
};

struct CaptureCounts {
  uint64_t written = 0;
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_write_failed = 0;
};

class CaptureWriter {
 public:
  explicit CaptureWriter(CaptureOptions options);  // starts the writer thread
  ~CaptureWriter();                                // writes what is queued, then stops
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  // Whether this request is captured (a draw against sampling_percent).
  bool sample() const;
  // Queues a record; never blocks on the disk. False when the queue was full (counted).
  bool offer(CaptureEvent event);
  CaptureCounts counts() const;
  // Blocks until every record queued so far is written or dropped (tests, shutdown).
  void flush();

 private:
  void run();
  bool write_one(const CaptureEvent& event);

  CaptureOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, drained_;
  std::deque<CaptureEvent> queue_;
  bool stopping_ = false;
  size_t in_progress_ = 0;
  std::atomic<uint64_t> written_{0}, dropped_full_{0}, dropped_failed_{0};
  // Writer thread only: the open hourly file.
  int fd_ = -1;
  std::string open_hour_;
  std::thread thread_;
};

// One capture line for `event` with the given event id (exposed for tests).
std::string capture_record(const CaptureEvent& event, const std::string& event_id);
// A random version-4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
std::string uuid_v4();

}  // namespace tabpilot::serve
