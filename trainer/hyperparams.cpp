#include "tabpilot/trainer/hyperparams.h"

#include <algorithm>
#include <cmath>

#include "tabpilot/common/error.h"

namespace tabpilot {

std::string_view to_string(ParamType type) {
  switch (type) {
    case ParamType::kFloat: return "float";
    case ParamType::kLogFloat: return "log-float";
    case ParamType::kInt: return "int";
    case ParamType::kLogInt: return "log-int";
    case ParamType::kChoice: return "choice";
  }
  return "?";
}

nlohmann::json ParamSpec::to_json() const {
  nlohmann::json j = {{"name", name}, {"type", to_string(type)}, {"default", default_value},
                      {"help", help}};
  if (type == ParamType::kChoice) {
    j["choices"] = choices;
  } else {
    j["low"] = low;
    j["high"] = high;
  }
  return j;
}

Params default_params(const ParamTable& table) {
  Params p = Params::object();
  for (const auto& spec : table) p[spec.name] = spec.default_value;
  return p;
}

Params resolve_params(const ParamTable& table, const Params& given) {
  Params out = default_params(table);
  if (given.is_null()) return out;
  if (!given.is_object()) throw InputError("hyperparameters must be a JSON object");
  for (const auto& [name, value] : given.items()) {
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const ParamSpec& s) { return s.name == name; });
    if (it == table.end()) {
      std::string known;
      for (const auto& s : table) known += (known.empty() ? "" : ", ") + s.name;
      throw InputError("unknown hyperparameter '" + name + "' (known: " + known + ")");
    }
    if (it->type == ParamType::kChoice) {
      if (!value.is_string() ||
          std::find(it->choices.begin(), it->choices.end(), value.get<std::string>()) ==
              it->choices.end())
        throw InputError("hyperparameter '" + name + "' must be one of the choices in " +
                         nlohmann::json(it->choices).dump() + ", got " + value.dump());
      out[name] = value;
      continue;
    }
    if (!value.is_number())
      throw InputError("hyperparameter '" + name + "' must be a number, got " + value.dump());
    double v = value.get<double>();
    if (!std::isfinite(v) || v < it->low || v > it->high)
      throw InputError("hyperparameter '" + name + "' = " + value.dump() + " is outside [" +
                       nlohmann::json(it->low).dump() + ", " + nlohmann::json(it->high).dump() +
                       "]");
    bool integral = it->type == ParamType::kInt || it->type == ParamType::kLogInt;
    if (integral && v != std::floor(v))
      throw InputError("hyperparameter '" + name + "' must be an integer, got " + value.dump());
    out[name] = integral ? nlohmann::json(static_cast<int64_t>(v)) : nlohmann::json(v);
  }
  return out;
}

Params with_int_param(const ParamTable& table, Params params, const std::string& name,
                      double value) {
  for (const auto& spec : table)
    if (spec.name == name) value = std::clamp(value, spec.low, spec.high);
  params[name] = static_cast<int64_t>(std::llround(value));
  return params;
}

}  // namespace tabpilot
