#include "support/test_paths.h"

#include <atomic>
#include <fstream>
#include <random>
#include <unistd.h>

namespace tabpilot::testing {

std::filesystem::path source_dir() { return TABPILOT_SOURCE_DIR; }

std::filesystem::path test_data(const std::string& name) {
  return source_dir() / "tests" / "fixtures" / name;
}

std::filesystem::path scratch_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("tabpilot-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path write_temp_file(const std::string& name, const std::string& text) {
  auto path = scratch_dir("file") / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace tabpilot::testing
