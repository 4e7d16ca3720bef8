#include "tabpilot/automl/job_location.h"

#include <cstring>  // for strerror

#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

constexpr size_t kMaxNameBytes = 128;

bool name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// What a user sees of a name in a message: printable ASCII, at most 60 bytes.
std::string shown(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return s.size() > 60 ? out + "..." : out;
}

std::string reason(const std::error_code& ec) { return ec.message(); }

}  // namespace

void check_job_name(const std::string& name, const std::string& what) {
  const std::string rule =
      "a job name is one folder name of letters, digits, '-', '_' and '.' (not '.' or '..')";
  if (name.empty()) throw InputError(what + " is empty: " + rule);
  if (name == "." || name == "..") throw InputError(what + " '" + name + "': " + rule);
  if (name.size() > kMaxNameBytes)
    throw InputError(what + " '" + shown(name) + "' is longer than " +
                     std::to_string(kMaxNameBytes) + " bytes: " + rule);
  for (char c : name)
    if (!name_byte(c)) throw InputError(what + " '" + shown(name) + "': " + rule);
}

std::string default_job_name(const std::string& train_path) {
  std::string stem = fs::path(train_path).stem().string();
  for (char& c : stem)
    if (!name_byte(c)) c = '-';
  if (stem.empty() || stem == "." || stem == "..") stem = "job";
  if (stem.size() > 100) stem.resize(100);  // the time stamp adds 20
  return timestamped_name(stem);
}

bool is_job_folder(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status s = fs::symlink_status(dir, ec);
  if (ec || !fs::is_directory(s)) return false;
  const fs::file_status j = fs::symlink_status(dir / kJobFile, ec);
  if (ec || !fs::is_regular_file(j)) return false;
  try {
    const nlohmann::json job = read_json(dir / kJobFile);
    return job.is_object() && job.contains("AutoMLJobName") && job["AutoMLJobName"].is_string() &&
           job.contains("tabpilot") && job["tabpilot"].is_object();
  } catch (const std::exception&) {
    return false;
  }
}

void prepare_output_dir(const fs::path& output_dir, const std::string& what) {
  std::error_code ec;
  const fs::file_status s = fs::status(output_dir, ec);
  if (fs::exists(s) && !fs::is_directory(s))
    throw InputError(what + " " + output_dir.string() + ": exists and is not a folder");
}

bool check_job_dir(const fs::path& job_dir) {
  std::error_code ec;
  const fs::file_status s = fs::symlink_status(job_dir, ec);
  if (!fs::exists(s)) return false;
  if (fs::is_symlink(s))
    throw InputError(job_dir.string() +
                     ": is a symbolic link; a job folder must be a real folder (choose another "
                     "--name)");
  if (!fs::is_directory(s))
    throw InputError(job_dir.string() + ": exists and is not a folder (choose another --name)");
  if (is_job_folder(job_dir)) return true;
  if (!fs::is_empty(job_dir, ec))
    throw InputError(job_dir.string() +
                     ": exists and is not a tabpilot job folder (no job.json of ours); tabpilot "
                     "neither writes into it nor deletes it, even with --force: choose another "
                     "--name");
  return false;
}

void remove_job_folder(const fs::path& dir) {
  if (!is_job_folder(dir))
    throw InputError(dir.string() + ": not a tabpilot job folder; --force replaces job folders only");
  std::error_code ec;
  fs::remove_all(dir, ec);  // does not follow links inside: a link is removed, not its target
  if (ec) throw InputError(dir.string() + ": cannot remove the old job folder (" + reason(ec) + ")");
}

void create_output_folder(const fs::path& dir, const std::string& what) {
  prepare_output_dir(dir, what);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(what + " " + dir.string() + ": cannot create the folder (" +
                     (ec ? reason(ec) : std::string("a file is in the way")) + ")");
}

}  // namespace tabpilot
