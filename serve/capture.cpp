#include "tabpilot/serve/capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "tabpilot/common/log.h"

namespace tabpilot::serve {
namespace {

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned char c = b[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 |
                       uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[v >> s & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kAlphabet[v >> 18 & 63]);
    out.push_back(kAlphabet[v >> 12 & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[v >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

nlohmann::json capture_side(const std::string& content_type, const std::string& data,
                            const char* mode) {
  const std::string media = content_type.substr(0, content_type.find(';'));
  std::string encoding = "BASE64";
  if (valid_utf8(data)) {
    if (media == "text/csv") encoding = "CSV";
    else if (media.find("json") != std::string::npos) encoding = "JSON";
  }
  return {{"observedContentType", content_type},
          {"mode", mode},
          {"data", encoding == "BASE64" ? base64(data) : data},
          {"encoding", encoding}};
}

std::tm utc(double unix_time) {
  const auto t = static_cast<std::time_t>(std::floor(unix_time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string uuid_v4() {
  auto& rng = thread_rng();
  const uint64_t a = rng(), b = rng();
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  }
  bytes[6] = (bytes[6] & 0x0F) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3F) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

std::string capture_record(const CaptureEvent& event, const std::string& event_id) {
  const std::tm tm = utc(event.unix_time);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  nlohmann::json metadata = {{"eventId", event_id}};
  if (!event.inference_id.empty()) metadata["inferenceId"] = event.inference_id;
  metadata["inferenceTime"] = when;
  if (!event.custom_attributes.empty()) metadata["customAttributes"] = event.custom_attributes;
  nlohmann::json record = {
      {"captureData",
       {{"endpointInput", capture_side(event.input_content_type, event.input_data, "INPUT")},
        {"endpointOutput", capture_side(event.output_content_type, event.output_data, "OUTPUT")}}},
      {"eventMetadata", metadata},
      {"eventVersion", "0"}};
  // Header values are not checked for UTF-8: replace rather than throw.
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

CaptureWriter::CaptureWriter(CaptureOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

CaptureWriter::~CaptureWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
  const CaptureCounts c = counts();
  log::info("data capture: " + std::to_string(c.written) + " records written, " +
            std::to_string(c.dropped_queue_full) + " dropped (queue full), " +
            std::to_string(c.dropped_write_failed) + " dropped (write failed)");
}

bool CaptureWriter::sample() const {
  if (options_.sampling_percent >= 100) return true;
  if (options_.sampling_percent <= 0) return false;
  std::uniform_real_distribution<double> u(0.0, 100.0);
  return u(thread_rng()) < options_.sampling_percent;
}

bool CaptureWriter::offer(CaptureEvent event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= options_.queue_capacity) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
  return true;
}

CaptureCounts CaptureWriter::counts() const {
  return {written_.load(), dropped_full_.load(), dropped_failed_.load()};
}

void CaptureWriter::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  drained_.wait(lock, [&] { return queue_.empty() && in_progress_ == 0; });
}

void CaptureWriter::run() {
  std::deque<CaptureEvent> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      in_progress_ = 0;
      drained_.notify_all();
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      in_progress_ = batch.size();
    }
    for (const CaptureEvent& e : batch) {
      if (write_one(e)) written_.fetch_add(1, std::memory_order_relaxed);
      else dropped_failed_.fetch_add(1, std::memory_order_relaxed);
    }
    batch.clear();
  }
}

bool CaptureWriter::write_one(const CaptureEvent& event) {
  const std::tm tm = utc(event.unix_time);
  char hour[32];
  std::strftime(hour, sizeof hour, "%Y/%m/%d/%H", &tm);
  if (fd_ < 0 || open_hour_ != hour) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(options_.dir) / options_.endpoint / options_.variant / hour;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return false;
    char name[32];
    std::snprintf(name, sizeof name, "%02d-%02d-%03d-", tm.tm_min, tm.tm_sec,
                  static_cast<int>(std::fmod(event.unix_time, 1.0) * 1000));
    const fs::path file = dir / (name + uuid_v4() + ".jsonl");
    fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return false;
    open_hour_ = hour;
  }
  const std::string line = capture_record(event, uuid_v4());
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n <= 0) {
      // A partial line must not prefix the next record: the next one starts a new file.
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace tabpilot::serve
