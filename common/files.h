// Small file helpers shared by the job folder, the model artifact and the reports: atomic
// writes (write to a temp file, then rename), whole-file reads, SHA-256 checksums, time stamps.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tabpilot {

std::string read_file(const std::filesystem::path& path);  // throws InputError if unreadable
// An output file the user named (`what` is the option, e.g. "-o"): refused with an InputError
// when it is a folder or its folder does not exist, before any work is done.
void check_output_file(const std::filesystem::path& path, const std::string& what);
// Writes via "<path>.tmp" + rename, so a reader never sees a half-written file.
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);
nlohmann::json read_json(const std::filesystem::path& path);  // throws InputError

std::string sha256_hex(const void* data, size_t size);
inline std::string sha256_hex(const std::string& s) { return sha256_hex(s.data(), s.size()); }
// SHA-256 of a file, read in 1 MiB chunks (a large training file is never held in memory).
std::string sha256_file(const std::filesystem::path& path);  // throws InputError if unreadable

double unix_now();                      // seconds since the epoch, system clock
std::string iso_time(double unix_seconds);  // "2026-11-26T06:22:35.123Z"
// "<base>-yyyy-mm-dd-hh-mm-ss" in UTC, like the SageMaker SDK's default job names.
std::string timestamped_name(const std::string& base);

}  // namespace tabpilot
