// One declarative table of hyperparameters per learner (name, type, default, range, help),
// used by the search space, model.json and the reports alike. Values travel as JSON.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tabpilot {

using Params = nlohmann::json;  // object: name -> number | string | bool

enum class ParamType { kFloat, kLogFloat, kInt, kLogInt, kChoice };

struct ParamSpec {
  std::string name;
  ParamType type;
  nlohmann::json default_value;       // number or string
  double low = 0, high = 0;           // numeric range, inclusive
  std::vector<std::string> choices;   // kChoice
  std::string help;
  nlohmann::json to_json() const;
};

using ParamTable = std::vector<ParamSpec>;

// The defaults of a table as a Params object.
Params default_params(const ParamTable& table);
// `given` completed with defaults; throws InputError naming an unknown parameter (with the
// known ones) or a value outside its range.
Params resolve_params(const ParamTable& table, const Params& given);
std::string_view to_string(ParamType type);
// `params` with the integer parameter `name` set to `value` clamped to the table's range and
// rounded (a refit's rounds or epochs from what early stopping chose).
Params with_int_param(const ParamTable& table, Params params, const std::string& name,
                      double value);

}  // namespace tabpilot
