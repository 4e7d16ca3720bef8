// What a learner is lives in its registry entry (trainer/): outside trainer/, only the
// candidate policy (automl/candidates.cpp, a table of data) names learners. This test reads
// the sources of automl/, tuner/, report/ and serve/ and fails on a learner's name in a
// string literal anywhere else, so that adding a family stays a local change.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_paths.h"
#include "tabpilot/trainer/learner.h"

namespace tabpilot {
namespace {
namespace fs = std::filesystem;

TEST(LearnerNames, OnlyTheCandidatePolicyNamesLearnersOutsideTrainer) {
  const std::vector<std::string> names = learner_names();
  ASSERT_GE(names.size(), 4u);
  std::vector<std::string> offenders;
  size_t files = 0;
  for (const char* folder : {"automl", "tuner", "report", "serve"}) {
    for (const auto& e : fs::directory_iterator(testing::source_dir() / folder)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".cpp" && ext != ".h") continue;
      if (e.path().filename() == "candidates.cpp") continue;  // the policy table
      ++files;
      std::ifstream in(e.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n)
        for (const auto& name : names)
          if (line.find("\"" + name + "\"") != std::string::npos)
            offenders.push_back(e.path().filename().string() + ":" + std::to_string(n) + ": " + line);
    }
  }
  EXPECT_GT(files, 30u);
  EXPECT_TRUE(offenders.empty()) << [&] {
    std::string s;
    for (const auto& o : offenders) s += o + "\n";
    return s;
  }();
}

TEST(LearnerRegistry, EveryEntryIsComplete) {
  for (const LearnerInfo* info : registered_learners()) {
    SCOPED_TRACE(info->name);
    ASSERT_TRUE(info->make && info->params);
    EXPECT_EQ(info->make()->name(), info->name);
    EXPECT_FALSE(info->title.empty());
    const ParamTable& table = info->params();
    for (const auto& p : info->cost_params)
      EXPECT_TRUE(std::any_of(table.begin(), table.end(), [&](const ParamSpec& s) { return s.name == p; }))
          << p << " is not a parameter";
    for (const auto& p : info->batch_keys)
      EXPECT_TRUE(std::any_of(table.begin(), table.end(), [&](const ParamSpec& s) { return s.name == p; }))
          << p << " is not a parameter";
    EXPECT_EQ(info->batch_keys.empty(), info->fit_batch == nullptr);
  }
  EXPECT_THROW(learner_info("forest"), std::runtime_error);
}

}  // namespace
}  // namespace tabpilot
