#include "tabpilot/trainer/learner.h"

#include <functional>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/learner_factories.h"

namespace tabpilot {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Learner> (*make)();
  const ParamTable& (*params)();
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"linear", make_linear_learner, linear_param_table},
      {"xgboost", make_xgboost_learner, xgboost_param_table},
      {"mlp", make_mlp_learner, mlp_param_table},
  };
  return entries;
}

const Entry& find(std::string_view name) {
  for (const auto& e : registry())
    if (name == e.name) return e;
  std::string known;
  for (const auto& e : registry()) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw InputError("unknown learner '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace

const ParamTable& learner_params(std::string_view learner) { return find(learner).params(); }
std::unique_ptr<Learner> make_learner(std::string_view learner) { return find(learner).make(); }

std::vector<std::string> learner_names() {
  std::vector<std::string> out;
  for (const auto& e : registry()) out.emplace_back(e.name);
  return out;
}

}  // namespace tabpilot
