#include "tabpilot/sagemaker/training_env.h"

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <type_traits>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"

namespace fs = std::filesystem;

namespace tabpilot::sagemaker {

fs::path opt_ml_root(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("TABPILOT_OPT_ML"); env && *env) return env;
  return "/opt/ml";
}

const std::vector<std::string>& known_hyperparameters() {
  static const std::vector<std::string> keys = {
      "target", "target_attribute_name", "problem_type", "objective", "max_candidates",
      "max_runtime_seconds", "time_limit", "max_runtime_per_training_job_in_seconds",
      "trial_time_limit", "seed", "cv_folds", "validation_fraction", "learners", "threads",
      "device", "refit", "gpu_mlp_batch", "sampler", "ensemble_rounds", "ensemble_metric",
      "name"};
  return keys;
}

namespace {

std::string as_text(const std::string& key, const nlohmann::json& v) {
  if (v.is_number() || v.is_boolean()) return v.dump();  // tolerated: not strictly a string
  if (!v.is_string()) throw InputError("hyperparameters.json: '" + key + "' is not a string");
  std::string s = v.get<std::string>();
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    nlohmann::json inner = nlohmann::json::parse(s, nullptr, false);
    if (inner.is_string()) s = inner.get<std::string>();
  }
  return s;
}

template <class T>
T parse_number(const std::string& key, const std::string& s) {
  try {
    size_t used = 0;
    T v;
    if constexpr (std::is_same_v<T, double>) v = std::stod(s, &used);
    else if constexpr (std::is_same_v<T, uint64_t>) v = std::stoull(s, &used);
    else v = static_cast<T>(std::stoll(s, &used));
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw InputError("hyperparameters.json: '" + key + "' must be a number, got '" + s + "'");
  }
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace

JobConfig config_from_hyperparameters(const nlohmann::json& hp) {
  if (!hp.is_object()) throw InputError("hyperparameters.json: expected a JSON object");
  std::vector<std::string> unknown;
  for (const auto& [key, value] : hp.items())
    if (std::find(known_hyperparameters().begin(), known_hyperparameters().end(), key) ==
        known_hyperparameters().end())
      unknown.push_back(key);
  if (!unknown.empty()) {
    std::string list, known;
    for (const auto& k : unknown) list += (list.empty() ? "'" : ", '") + k + "'";
    for (const auto& k : known_hyperparameters()) known += (known.empty() ? "" : ", ") + k;
    throw InputError("hyperparameters.json: unknown hyperparameter(s) " + list + "; known: " +
                     known);
  }
  auto get = [&hp](const char* key) -> std::optional<std::string> {
    if (!hp.contains(key)) return std::nullopt;
    return as_text(key, hp[key]);
  };
  JobConfig c;
  c.target = get("target").value_or(get("target_attribute_name").value_or(""));
  if (c.target.empty())
    throw InputError("hyperparameters.json: no 'target' (or 'target_attribute_name'): name the "
                     "column to predict");
  if (auto v = get("problem_type"); v && *v != "auto" && *v != "Auto")
    c.problem_type = task_from_string(*v);
  if (auto v = get("objective")) c.objective = *v;
  if (auto v = get("max_candidates")) c.max_candidates = parse_number<int>("max_candidates", *v);
  if (auto v = get("time_limit")) c.time_limit_s = parse_number<double>("time_limit", *v);
  if (auto v = get("max_runtime_seconds"))
    c.time_limit_s = parse_number<double>("max_runtime_seconds", *v);
  if (auto v = get("trial_time_limit"))
    c.trial_time_limit_s = parse_number<double>("trial_time_limit", *v);
  if (auto v = get("max_runtime_per_training_job_in_seconds"))
    c.trial_time_limit_s = parse_number<double>("max_runtime_per_training_job_in_seconds", *v);
  if (auto v = get("seed")) c.seed = parse_number<uint64_t>("seed", *v);
  if (auto v = get("cv_folds"); v && *v != "auto") c.cv_folds = parse_number<int>("cv_folds", *v);
  if (auto v = get("validation_fraction"))
    c.validation_fraction = parse_number<double>("validation_fraction", *v);
  if (auto v = get("learners")) c.learners = split_list(*v);
  if (auto v = get("threads")) c.threads = parse_number<int>("threads", *v);
  if (auto v = get("device")) c.device = device_mode_from_string(*v);
  if (auto v = get("gpu_mlp_batch")) c.gpu_mlp_batch = parse_number<int>("gpu_mlp_batch", *v);
  if (auto v = get("name")) c.name = *v;
  if (auto v = get("sampler")) c.sampler = *v;
  if (auto v = get("ensemble_rounds"))
    c.ensemble_rounds = parse_number<int>("ensemble_rounds", *v);
  if (auto v = get("ensemble_metric")) c.ensemble_metric = *v;
  if (auto v = get("refit")) {
    if (*v != "true" && *v != "false" && *v != "True" && *v != "False")
      throw InputError("hyperparameters.json: 'refit' must be true or false, got '" + *v + "'");
    c.refit = *v == "true" || *v == "True";
  }
  if (c.max_candidates < 1)
    throw InputError("hyperparameters.json: 'max_candidates' must be at least 1");
  if (!(c.time_limit_s > 0))
    throw InputError("hyperparameters.json: 'max_runtime_seconds' must be positive");
  return c;
}

namespace {

nlohmann::json read_config(const fs::path& file, bool required) {
  if (!fs::exists(file)) {
    if (required) throw InputError(file.string() + ": missing (is this a SageMaker training job?)");
    return nlohmann::json::object();
  }
  return read_json(file);  // InputError naming the file when it is not JSON
}

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

}  // namespace

TrainingEnv read_training_env(const fs::path& opt_ml) {
  TrainingEnv env;
  env.opt_ml = opt_ml;
  const fs::path config_dir = opt_ml / "input" / "config";
  env.hyperparameters = read_config(config_dir / "hyperparameters.json", true);
  env.config = config_from_hyperparameters(env.hyperparameters);

  const fs::path channels_file = config_dir / "inputdataconfig.json";
  const nlohmann::json channels = read_config(channels_file, true);
  if (!channels.is_object()) throw InputError(channels_file.string() + ": expected an object");
  for (const auto& [name, spec] : channels.items()) {
    if (name == "train" || name == "training") {
      env.train_channel = name;
    } else if (name == "validation") {
      throw InputError(channels_file.string() + ": a 'validation' channel is not supported (a job "
                       "has no fixed validation set); put its rows into the training channel and "
                       "set the validation_fraction or cv_folds hyperparameter");
    } else {
      throw InputError(channels_file.string() + ": unknown channel '" + name +
                       "' (expected 'train' or 'training')");
    }
    const std::string type = spec.is_object() ? spec.value("ContentType", "text/csv") : "";
    std::string compact;
    for (char ch : type)
      if (ch != ' ') compact.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    if (compact != "text/csv" && compact != "text/csv;header=present")
      throw InputError(channels_file.string() + ": channel '" + name + "' has ContentType '" +
                       type + "'; only text/csv with a header row (text/csv;header=present) is "
                       "supported");
    if (spec.is_object() && spec.value("TrainingInputMode", "File") == "Pipe")
      throw InputError(channels_file.string() + ": Pipe input mode is not supported; use File or "
                       "FastFile");
  }
  if (env.train_channel.empty())
    throw InputError(channels_file.string() + ": no 'train' or 'training' channel");

  const nlohmann::json resources = read_config(config_dir / "resourceconfig.json", false);
  env.current_host = resources.value("current_host", "algo-1");
  env.hosts = resources.value("hosts", std::vector<std::string>{env.current_host});
  if (env.hosts.size() > 1)
    throw InputError("resourceconfig.json: " + std::to_string(env.hosts.size()) +
                     " hosts; multi-host training is not supported: use InstanceCount 1");

  const fs::path data_dir = opt_ml / "input" / "data" / env.train_channel;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec))
    throw InputError(data_dir.string() + ": the training channel's folder is missing");
  for (const auto& e : fs::recursive_directory_iterator(data_dir, ec)) {
    if (!e.is_regular_file() || is_hidden(e.path())) continue;
    const std::string ext = e.path().extension().string();
    if (ext == ".gz" || ext == ".gzip" || ext == ".zip" || ext == ".parquet")
      throw InputError(e.path().string() + ": compressed/" + ext.substr(1) + " input is not "
                       "supported; upload plain CSV files");
    if (ext == ".manifest" || ext == ".json") continue;  // SageMaker manifests, metadata
    env.train_files.push_back(e.path());
  }
  std::sort(env.train_files.begin(), env.train_files.end());
  if (env.train_files.empty()) throw InputError(data_dir.string() + ": no training files in it");
  return env;
}

namespace {

std::string first_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

fs::path combine_csv_files(const std::vector<fs::path>& files, const fs::path& combined) {
  if (files.size() == 1) return files[0];
  std::string header;
  std::ofstream out(combined.string() + ".tmp", std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(combined.string() + ": cannot write");
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw InputError(f.string() + ": cannot open");
    const std::string h = first_line(in);
    if (header.empty()) {
      header = h;
      out << header << "\n";
    } else if (h != header) {
      throw InputError(f.string() + ": its header differs from " + files[0].string() +
                       "'s; every file of the channel needs the same header row");
    }
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out << rest;
    if (!rest.empty() && rest.back() != '\n') out << "\n";
  }
  out.close();
  if (!out) throw std::runtime_error(combined.string() + ": write failed");
  fs::rename(combined.string() + ".tmp", combined);
  return combined;
}

}  // namespace tabpilot::sagemaker
