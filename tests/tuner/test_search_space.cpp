// narrowed(): ranges, choices and fixed values over a learner table, and its errors.
#include <gtest/gtest.h>

#include "tabpilot/common/error.h"
#include "tabpilot/tuner/search_space.h"

namespace tabpilot {
namespace {

ParamTable table() {
  ParamSpec eta{"eta", ParamType::kLogFloat, 0.3, 1e-3, 1.0, {}, "step size"};
  ParamSpec depth{"max_depth", ParamType::kInt, 6, 1, 16, {}, "tree depth"};
  ParamSpec booster{"booster", ParamType::kChoice, "gbtree", 0, 0, {"gbtree", "dart", "gblinear"},
                    "booster"};
  return {eta, depth, booster};
}

// The message of the InputError `f` throws, or "" when it throws none.
template <typename F>
std::string input_error(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(SearchSpace, NoOverridesIsTheBaseTable) {
  SearchSpace s = narrowed(table(), nullptr);
  ASSERT_EQ(s.params.size(), 3u);
  EXPECT_TRUE(s.fixed.empty());
  EXPECT_EQ(s.params[1].low, 1);
  EXPECT_EQ(s.params[1].high, 16);
  EXPECT_EQ(narrowed(table(), nlohmann::json::object()).params.size(), 3u);
}

TEST(SearchSpace, NarrowsRangesAndChoicesAndFixesValues) {
  SearchSpace s = narrowed(table(), {{"eta", {{"low", 0.01}}},
                                     {"max_depth", 3.0},
                                     {"booster", {{"choices", {"dart", "gbtree", "dart"}}}}});
  ASSERT_EQ(s.params.size(), 2u);  // max_depth became fixed
  EXPECT_EQ(s.params[0].name, "eta");
  EXPECT_DOUBLE_EQ(s.params[0].low, 0.01);
  EXPECT_DOUBLE_EQ(s.params[0].high, 1.0);  // an omitted bound keeps the base one
  EXPECT_EQ(s.params[1].choices, (std::vector<std::string>{"dart", "gbtree"}));
  EXPECT_EQ(s.fixed["max_depth"], 3);
  EXPECT_TRUE(s.fixed["max_depth"].is_number_integer());

  nlohmann::json j = s.to_json();
  EXPECT_EQ(j["fixed"], (nlohmann::json{{"max_depth", 3}}));
  ASSERT_EQ(j["params"].size(), 2u);
  EXPECT_EQ(j["params"][0]["name"], "eta");
  EXPECT_EQ(j["params"][0]["low"], 0.01);
  EXPECT_EQ(j["params"][1]["choices"], (nlohmann::json{"dart", "gbtree"}));
}

TEST(SearchSpace, UnknownNameListsKnownOnes) {
  std::string msg = input_error([] { narrowed(table(), {{"depth", 3}}); });
  EXPECT_NE(msg.find("'depth'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("eta, max_depth, booster"), std::string::npos) << msg;
}

TEST(SearchSpace, RejectsRangesAndValuesOutsideTheTable) {
  auto rejects = [](const nlohmann::json& o) {
    return !input_error([&] { narrowed(table(), o); }).empty();
  };
  EXPECT_TRUE(rejects({{"eta", {{"low", 1e-5}}}}));                        // below base low
  EXPECT_TRUE(rejects({{"eta", {{"high", 2.0}}}}));                        // above base high
  EXPECT_TRUE(rejects({{"eta", {{"low", 0.5}, {"high", 0.1}}}}));          // inverted
  EXPECT_TRUE(rejects({{"eta", {{"low", "0.1"}}}}));                       // not a number
  EXPECT_TRUE(rejects({{"eta", {{"lo", 0.1}}}}));                          // misspelt key
  EXPECT_TRUE(rejects({{"max_depth", {{"low", 2.5}}}}));                   // integer param
  EXPECT_TRUE(rejects({{"max_depth", 17}}));                               // fixed, out of range
  EXPECT_TRUE(rejects({{"max_depth", 2.5}}));                              // fixed, not integer
  EXPECT_TRUE(rejects({{"booster", {{"choices", {"gbtree", "lgbm"}}}}}));  // unknown choice
  EXPECT_TRUE(rejects({{"booster", {{"choices", nlohmann::json::array()}}}}));
  EXPECT_TRUE(rejects({{"booster", {{"low", 1}}}}));                 // range on a choice
  EXPECT_TRUE(rejects({{"eta", {{"choices", {"a"}}}}}));             // choices on a number
  EXPECT_TRUE(rejects({{"booster", "xgb"}}));                        // fixed, unknown choice
  EXPECT_TRUE(rejects(nlohmann::json::array({1, 2})));               // not an object
  EXPECT_FALSE(rejects({{"eta", {{"low", 1e-3}, {"high", 1.0}}}}));  // the base range is fine
}

}  // namespace
}  // namespace tabpilot
