// Where a job may live and what may be deleted: the job name rule (one folder name of
// letters, digits, '-', '_' and '.', never '.' or '..'), the checks that keep a job folder
// inside --output, and the only function that removes a job folder (--force), which refuses
// anything that is not a tabpilot job folder and never follows a symbolic link.
#pragma once
#include <filesystem>
#include <string>

namespace tabpilot {

// Throws InputError ("<what> 'x/y': ...") unless `name` is one path component made of
// [A-Za-z0-9._-], at most 128 bytes, and not "." or "..".
void check_job_name(const std::string& name, const std::string& what = "--name");

// A default job name from a training file: its stem with every other byte turned into '-'
// (so that "my data (v2).csv" gives "my-data--v2-"), then "-<UTC time stamp>".
std::string default_job_name(const std::string& train_path);

// True for a real folder (not a symbolic link) holding a job.json that tabpilot wrote
// (an AutoMLJobName and a tabpilot section).
bool is_job_folder(const std::filesystem::path& dir);

// The folder that holds job folders: refused (InputError naming it) when it exists and is
// not a folder, or cannot be created.
void prepare_output_dir(const std::filesystem::path& output_dir, const std::string& what = "--output");

// The job folder `output_dir / name` as a new job may use it: refused when it is a symbolic
// link, a file, or a non-empty folder that is not a tabpilot job folder. Returns whether a
// job folder is there already (the caller resumes, refuses, or replaces it).
bool check_job_dir(const std::filesystem::path& job_dir);

// Deletes a job folder; throws InputError without deleting anything when `dir` is not a job
// folder by is_job_folder.
void remove_job_folder(const std::filesystem::path& dir);

// Creates a folder (and its parents) for output; a failure (a file in the way, no
// permission) is an InputError naming the path and the reason.
void create_output_folder(const std::filesystem::path& dir, const std::string& what);

}  // namespace tabpilot
