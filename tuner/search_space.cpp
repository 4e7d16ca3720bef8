#include "tabpilot/tuner/search_space.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

std::string num(double v) { return nlohmann::json(v).dump(); }

bool is_integral(ParamType t) { return t == ParamType::kInt || t == ParamType::kLogInt; }

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw InputError("search space override '" + name + "': " + what);
}

double bound(const ParamSpec& spec, const nlohmann::json& v, const char* key) {
  if (!v.is_number()) bad(spec.name, std::string(key) + " must be a number, got " + v.dump());
  double x = v.get<double>();
  if (!std::isfinite(x)) bad(spec.name, std::string(key) + " must be finite");
  if (is_integral(spec.type) && x != std::floor(x))
    bad(spec.name, std::string(key) + " must be an integer, got " + v.dump());
  return x;
}

void narrow_range(ParamSpec& spec, const nlohmann::json& o) {
  if (spec.type == ParamType::kChoice)
    bad(spec.name, "is a choice parameter; give {\"choices\": [...]} instead of low/high");
  for (const auto& [key, _] : o.items())
    if (key != "low" && key != "high")
      bad(spec.name, "unexpected key '" + key + "' (use low and/or high)");
  double low = o.contains("low") ? bound(spec, o["low"], "low") : spec.low;
  double high = o.contains("high") ? bound(spec, o["high"], "high") : spec.high;
  if (low < spec.low || high > spec.high)
    bad(spec.name, "range [" + num(low) + ", " + num(high) + "] is outside the allowed [" +
                       num(spec.low) + ", " + num(spec.high) + "]");
  if (low > high) bad(spec.name, "low " + num(low) + " is above high " + num(high));
  spec.low = low;
  spec.high = high;
}

void narrow_choices(ParamSpec& spec, const nlohmann::json& o) {
  if (spec.type != ParamType::kChoice)
    bad(spec.name, "is numeric; give {\"low\": .., \"high\": ..} instead of choices");
  if (o.size() != 1) bad(spec.name, "a choices override takes no other keys");
  const auto& c = o["choices"];
  if (!c.is_array() || c.empty()) bad(spec.name, "choices must be a non-empty array");
  std::vector<std::string> kept;
  for (const auto& v : c) {
    if (!v.is_string() || std::find(spec.choices.begin(), spec.choices.end(),
                                    v.get<std::string>()) == spec.choices.end())
      bad(spec.name,
          "choice " + v.dump() + " is not one of " + nlohmann::json(spec.choices).dump());
    if (std::find(kept.begin(), kept.end(), v.get<std::string>()) == kept.end())
      kept.push_back(v.get<std::string>());
  }
  spec.choices = kept;
}

}  // namespace

nlohmann::json SearchSpace::to_json() const {
  nlohmann::json p = nlohmann::json::array();
  for (const auto& spec : params) p.push_back(spec.to_json());
  nlohmann::json j = {{"params", p}, {"fixed", fixed}};
  if (!cost_params.empty()) j["cost_params"] = cost_params;
  return j;
}

SearchSpace narrowed(const ParamTable& base, const nlohmann::json& overrides) {
  SearchSpace space;
  space.params = base;
  if (overrides.is_null()) return space;
  if (!overrides.is_object())
    throw InputError(
        "search space overrides must be a JSON object of name -> range, choices "
        "or value, got " +
        overrides.dump());
  for (const auto& [name, o] : overrides.items()) {
    auto it = std::find_if(space.params.begin(), space.params.end(),
                           [&](const ParamSpec& s) { return s.name == name; });
    if (it == space.params.end()) {
      std::string known;
      for (const auto& s : base) known += (known.empty() ? "" : ", ") + s.name;
      throw InputError("search space override: unknown hyperparameter '" + name +
                       "' (known: " + known + ")");
    }
    if (o.is_object() && o.contains("choices")) {
      narrow_choices(*it, o);
    } else if (o.is_object()) {
      narrow_range(*it, o);
    } else {
      // resolve_params checks type and range and turns 3.0 into 3 for integer parameters.
      Params one = resolve_params(base, {{name, o}});
      space.fixed[name] = one[name];
      space.params.erase(it);
    }
  }
  return space;
}

}  // namespace tabpilot
