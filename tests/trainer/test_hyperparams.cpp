// The declarative hyperparameter table: defaults, resolution, and the errors for bad values.
#include <gtest/gtest.h>

#include <cmath>

#include "tabpilot/common/error.h"
#include "tabpilot/trainer/hyperparams.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {

ParamTable small_table() {
  return {
      {"rate", ParamType::kLogFloat, 0.1, 1e-3, 1.0, {}, "step size"},
      {"depth", ParamType::kInt, 4, 1, 10, {}, "tree depth"},
      {"kind", ParamType::kChoice, "a", 0, 0, {"a", "b"}, "variant"},
  };
}

std::string message_of(const ParamTable& t, const Params& given) {
  try {
    resolve_params(t, given);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Hyperparams, DefaultsAndResolution) {
  ParamTable t = small_table();
  Params d = default_params(t);
  EXPECT_EQ(d, (Params{{"rate", 0.1}, {"depth", 4}, {"kind", "a"}}));
  EXPECT_EQ(resolve_params(t, nullptr), d);
  EXPECT_EQ(resolve_params(t, Params::object()), d);
  Params r = resolve_params(t, {{"depth", 7.0}, {"kind", "b"}});
  EXPECT_EQ(r.at("depth"), 7);
  EXPECT_TRUE(r.at("depth").is_number_integer());
  EXPECT_EQ(r.at("kind"), "b");
  EXPECT_DOUBLE_EQ(r.at("rate").get<double>(), 0.1);
  // Bounds are inclusive.
  EXPECT_EQ(resolve_params(t, {{"depth", 10}}).at("depth"), 10);
  EXPECT_DOUBLE_EQ(resolve_params(t, {{"rate", 1e-3}}).at("rate").get<double>(), 1e-3);
}

TEST(Hyperparams, Errors) {
  ParamTable t = small_table();
  std::string m = message_of(t, {{"deep", 3}});
  EXPECT_NE(m.find("unknown hyperparameter 'deep'"), std::string::npos) << m;
  EXPECT_NE(m.find("rate, depth, kind"), std::string::npos) << m;
  m = message_of(t, {{"depth", 11}});
  EXPECT_NE(m.find("outside"), std::string::npos) << m;
  EXPECT_NE(message_of(t, {{"depth", 2.5}}).find("integer"), std::string::npos);
  EXPECT_NE(message_of(t, {{"rate", "fast"}}).find("must be a number"), std::string::npos);
  EXPECT_NE(message_of(t, {{"kind", "c"}}).find("choices"), std::string::npos);
  EXPECT_NE(message_of(t, {{"kind", 1}}).find("choices"), std::string::npos);
  EXPECT_NE(message_of(t, Params::array({1})).find("JSON object"), std::string::npos);
  EXPECT_FALSE(message_of(t, {{"rate", std::nan("")}}).empty());
}

TEST(Hyperparams, SpecToJson) {
  ParamTable t = small_table();
  nlohmann::json j = t[0].to_json();
  EXPECT_EQ(j.at("type"), "log-float");
  EXPECT_EQ(j.at("low"), 1e-3);
  EXPECT_FALSE(j.contains("choices"));
  j = t[2].to_json();
  EXPECT_EQ(j.at("choices"), nlohmann::json({"a", "b"}));
  EXPECT_FALSE(j.contains("low"));
}

// Every learner table this folder owns must accept its own defaults, with defaults in range.
TEST(Hyperparams, XGBoostTableIsConsistent) {
  const ParamTable& t = learner_params("xgboost");
  EXPECT_EQ(resolve_params(t, nullptr), default_params(t));
  for (const auto& spec : t) {
    if (spec.type == ParamType::kChoice) continue;
    double v = spec.default_value.get<double>();
    EXPECT_LE(spec.low, v) << spec.name;
    EXPECT_LE(v, spec.high) << spec.name;
    if (spec.type == ParamType::kLogFloat || spec.type == ParamType::kLogInt) {
      EXPECT_GT(spec.low, 0) << spec.name << ": log ranges need a positive lower bound";
    }
    EXPECT_FALSE(spec.help.empty()) << spec.name;
  }
  EXPECT_EQ(resolve_params(t, {{"max_bin", "64"}}).at("max_bin"), "64");
  EXPECT_THROW(resolve_params(t, {{"max_bin", "100"}}), InputError);
}

}  // namespace
}  // namespace tabpilot
