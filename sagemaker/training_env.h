// What the SageMaker platform hands a training container (contract section 3), read into a
// JobConfig: /opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json and the
// CSV files of the training channel.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/job.h"

namespace tabpilot::sagemaker {

// The /opt/ml root: `given` when not empty, else $TABPILOT_OPT_ML, else /opt/ml.
std::filesystem::path opt_ml_root(const std::string& given);

struct TrainingEnv {
  std::filesystem::path opt_ml;
  JobConfig config;                          // everything but train_path and output_dir
  nlohmann::json hyperparameters;            // as given
  std::string train_channel;                 // "train" or "training"
  std::vector<std::filesystem::path> train_files;  // sorted; one or more CSVs, same header
  std::string current_host = "algo-1";
  std::vector<std::string> hosts;
};

// Hyperparameter keys `config_from_hyperparameters` accepts.
const std::vector<std::string>& known_hyperparameters();

// The HyperParameters map (string -> string; JSON-quoted values like "\"species\"", as some
// SDKs send them, are unquoted) as a JobConfig. Throws InputError naming unknown keys, a
// missing target or a value that does not parse.
JobConfig config_from_hyperparameters(const nlohmann::json& hyperparameters);

// Reads the three config files and lists the training files. Throws InputError for a missing
// train/training channel, an unsupported content type, a validation channel (not supported:
// JobConfig has no fixed validation set), gzip files, an empty channel, or several hosts.
TrainingEnv read_training_env(const std::filesystem::path& opt_ml);

// One CSV for the job: the only file itself, or the files concatenated into `combined` (their
// header rows must be identical; the header is written once). Returns the path to train on.
std::filesystem::path combine_csv_files(const std::vector<std::filesystem::path>& files,
                                        const std::filesystem::path& combined);

}  // namespace tabpilot::sagemaker
