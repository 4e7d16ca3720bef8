// Paths tests need: the source tree (bundled data) and a fresh scratch folder per test.
#pragma once
#include <filesystem>
#include <string>

namespace tabpilot::testing {

std::filesystem::path source_dir();
// <repo>/tests/fixtures/<name>: small datasets and files the tests share
std::filesystem::path test_data(const std::string& name);
// A new empty folder under the system temp dir, unique per call.
std::filesystem::path scratch_dir(const std::string& tag);
// Writes `text` to a new file in a scratch dir and returns its path.
std::filesystem::path write_temp_file(const std::string& name, const std::string& text);

}  // namespace tabpilot::testing
