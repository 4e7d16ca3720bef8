// SHAP: Kernel SHAP against known Shapley values, local accuracy of every method, Kernel SHAP
// equal to TreeSHAP / linear SHAP where theory says they coincide, derived features summed
// back to their input column.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "fit_helpers.h"
#include "tabpilot/report/shap.h"

namespace tabpilot {
namespace {

using testing::fit_on;

// v(S) for f(x) = 2 x0 + 3 x1 + x0 x2 (+ 0 x3) at x = 1, background 0: Shapley values are
// (2.5, 3, 0.5, 0) — the interaction is split equally between x0 and x2.
double toy_value(const uint8_t* z) { return 2.0 * z[0] + 3.0 * z[1] + 1.0 * z[0] * z[2]; }

TEST(KernelShap, ExhaustiveCoalitionsGiveTheShapleyValues) {
  const Coalitions c = shap_coalitions(4, 256, 0);
  ASSERT_TRUE(c.exhaustive);
  ASSERT_EQ(c.count(), 14u);
  std::vector<double> v;
  for (size_t k = 0; k < c.count(); ++k) v.push_back(toy_value(&c.masks[k * 4]));
  const uint8_t all[4] = {1, 1, 1, 1};
  const std::vector<double> phi = solve_kernel_shap(c, v, toy_value(all), 0.0);
  EXPECT_NEAR(phi[0], 2.5, 1e-9);
  EXPECT_NEAR(phi[1], 3.0, 1e-9);
  EXPECT_NEAR(phi[2], 0.5, 1e-9);
  EXPECT_NEAR(phi[3], 0.0, 1e-9);
}

TEST(KernelShap, SampledCoalitionsAreExactForAnAdditiveModelAndSumToTheOutput) {
  const int m = 14;  // 2^14 - 2 coalitions > 300: sampled
  const Coalitions c = shap_coalitions(m, 300, 7);
  ASSERT_FALSE(c.exhaustive);
  ASSERT_EQ(c.count(), 300u);
  std::vector<double> w(m);
  for (int j = 0; j < m; ++j) w[static_cast<size_t>(j)] = j - 5.5;
  std::vector<double> v;
  for (size_t k = 0; k < c.count(); ++k) {
    double s = 1.0;
    for (int j = 0; j < m; ++j) s += w[static_cast<size_t>(j)] * c.masks[k * m + static_cast<size_t>(j)];
    v.push_back(s);
  }
  double fx = 1.0;
  for (double x : w) fx += x;
  const std::vector<double> phi = solve_kernel_shap(c, v, fx, 1.0);
  double sum = 0;
  for (int j = 0; j < m; ++j) {
    EXPECT_NEAR(phi[static_cast<size_t>(j)], w[static_cast<size_t>(j)], 1e-6) << j;
    sum += phi[static_cast<size_t>(j)];
  }
  EXPECT_NEAR(sum, fx - 1.0, 1e-9);
}

// Every explanation: expected + sum(values) = prediction, and `prediction` is what the
// pipeline predicts, seen through `link` (identity, sigmoid or softmax of the margins).
void expect_local_accuracy(const ShapExplanation& e, const Pipeline& p, const Table& rows,
                           double tol) {
  const std::vector<float> pred = p.predict(rows);
  const size_t no = e.outputs.size(), m = e.features.size(), k = static_cast<size_t>(p.num_classes());
  ASSERT_EQ(e.rows, rows.num_rows);
  for (size_t r = 0; r < e.rows; ++r) {
    std::vector<double> out(no);
    for (size_t o = 0; o < no; ++o) {
      double s = e.expected[r * no + o];
      for (size_t f = 0; f < m; ++f) s += e.value(r, o, f);
      EXPECT_NEAR(s, e.prediction[r * no + o], tol);
      out[o] = s;
    }
    if (e.output_space == "value" || e.output_space == "probability") {
      for (size_t o = 0; o < no; ++o) {
        const size_t col = p.task == Task::kBinary ? 1 : o;
        EXPECT_NEAR(out[o], pred[r * k + col], tol) << "row " << r;
      }
    } else if (e.output_space == "log_odds") {
      EXPECT_NEAR(1.0 / (1.0 + std::exp(-out[0])), pred[r * 2 + 1], tol) << "row " << r;
    } else {  // margins -> softmax
      double mx = *std::max_element(out.begin(), out.end()), z = 0;
      for (double& x : out) z += (x = std::exp(x - mx));
      for (size_t o = 0; o < no; ++o) EXPECT_NEAR(out[o] / z, pred[r * k + o], tol) << "row " << r;
    }
  }
}

Table first_rows(const Table& t, size_t n) {
  std::vector<size_t> rows;
  for (size_t r = 0; r < n && r < t.num_rows; ++r) rows.push_back(r * 7 % t.num_rows);
  return t.take(rows);
}

TEST(TreeShap, EqualsKernelShapOnAModelAdditiveInItsColumns) {
  // An average of members that each see one column is additive per column; with every
  // training row as the background the interventional expectation (Kernel SHAP) equals
  // TreeSHAP's cover-weighted one, so the two agree exactly. Also checks that exact SHAP of
  // an averaged pipeline is the share-weighted sum of its members' values.
  auto f = fit_on("auto_mpg", "mpg", Task::kRegression, "xgboost", testing::tree_recipe(),
                  {{"num_round", 30}});
  Pipeline& p = f.pipeline;
  p.members.clear();
  for (const auto& col : p.features)
    p.members.push_back(testing::fit_member(f, {col}, "xgboost", testing::tree_recipe(),
                                            {{"num_round", 30}, {"max_depth", 3}}));
  ASSERT_TRUE(has_exact_shap(p));
  const Table x = first_rows(f.table, 4);
  const ShapExplanation tree = exact_shap(p, x);
  EXPECT_EQ(tree.method, "tree_shap");
  EXPECT_EQ(tree.output_space, "value");
  expect_local_accuracy(tree, p, x, 2e-3);
  const std::vector<double> ones(f.table.num_rows, 1.0);
  const ShapExplanation kernel = kernel_shap(p, x, f.table, ones, {1024, 0, 0});
  expect_local_accuracy(kernel, p, x, 2e-3);
  for (size_t r = 0; r < x.num_rows; ++r)
    for (size_t j = 0; j < p.features.size(); ++j)
      EXPECT_NEAR(kernel.value(r, 0, j), tree.value(r, 0, j), 5e-3) << p.features[j] << " row " << r;
}

TEST(TreeShap, KernelShapIsCloseOnDeeperTrees) {
  auto f = fit_on("auto_mpg", "mpg", Task::kRegression, "xgboost", testing::tree_recipe(),
                  {{"num_round", 80}, {"max_depth", 4}});
  const Pipeline& p = f.pipeline;
  const Table x = first_rows(f.table, 6);
  const ShapExplanation tree = exact_shap(p, x);
  expect_local_accuracy(tree, p, x, 2e-3);
  std::vector<double> w;
  const Table bg = kmeans_background(p, f.table, 32, 0, w);
  const ShapExplanation kernel = kernel_shap(p, x, bg, w, {1024, 32, 0});
  expect_local_accuracy(kernel, p, x, 2e-3);
  // Path-dependent (TreeSHAP) and interventional (Kernel) values differ with interactions and
  // correlated columns, but they must tell the same story.
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < tree.values.size(); ++i) {
    sxy += tree.values[i] * kernel.values[i];
    sxx += tree.values[i] * tree.values[i];
    syy += kernel.values[i] * kernel.values[i];
  }
  EXPECT_GT(sxy / std::sqrt(sxx * syy), 0.9);
}

TEST(LinearShap, EqualsKernelShapWithTheTrainingRowsAsBackground) {
  FeatureRecipe standard;
  auto f = fit_on("auto_mpg", "mpg", Task::kRegression, "linear", standard);
  const Pipeline& p = f.pipeline;
  ASSERT_TRUE(has_exact_shap(p));
  const Table x = first_rows(f.table, 3);
  const ShapExplanation lin = exact_shap(p, x);
  EXPECT_EQ(lin.method, "linear_shap");
  expect_local_accuracy(lin, p, x, 1e-3);
  const std::vector<double> ones(f.table.num_rows, 1.0);
  const ShapExplanation kernel = kernel_shap(p, x, f.table, ones, {1024, 0, 0});
  for (size_t r = 0; r < x.num_rows; ++r)
    for (size_t j = 0; j < p.features.size(); ++j)
      EXPECT_NEAR(kernel.value(r, 0, j), lin.value(r, 0, j), 2e-3) << p.features[j];
}

TEST(TreeShap, BinaryIsInLogOddsAndKernelShapInProbability) {
  auto f = fit_on("breast_cancer_wisconsin", "class", Task::kBinary, "xgboost",
                  testing::tree_recipe(), {{"num_round", 40}});
  const Pipeline& p = f.pipeline;
  const Table x = first_rows(f.table, 5);
  const ShapExplanation tree = exact_shap(p, x);
  EXPECT_EQ(tree.output_space, "log_odds");
  expect_local_accuracy(tree, p, x, 1e-3);
  std::vector<double> w;
  const Table bg = kmeans_background(p, f.table, 8, 0, w);
  const ShapExplanation kernel = kernel_shap(p, x, bg, w, {64, 8, 0});
  EXPECT_EQ(kernel.output_space, "probability");
  ASSERT_EQ(kernel.outputs.size(), 1u);
  EXPECT_EQ(kernel.outputs[0], p.labels[1]);
  expect_local_accuracy(kernel, p, x, 1e-4);
}

TEST(LinearShap, MulticlassMarginsGiveTheSoftmaxProbabilities) {
  FeatureRecipe standard;
  auto f = fit_on("penguins", "species", Task::kMulticlass, "linear", standard);
  const Pipeline& p = f.pipeline;
  const Table x = first_rows(f.table, 5);
  const ShapExplanation lin = exact_shap(p, x);
  EXPECT_EQ(lin.output_space, "margin");
  EXPECT_EQ(lin.outputs.size(), 3u);
  expect_local_accuracy(lin, p, x, 1e-3);
  std::vector<double> w;
  const Table bg = kmeans_background(p, f.table, 8, 0, w);
  const ShapExplanation kernel = kernel_shap(p, x, bg, w, {256, 8, 0});
  EXPECT_EQ(kernel.outputs.size(), 3u);
  expect_local_accuracy(kernel, p, x, 1e-4);
}

TEST(Mlp, KernelShapLocalAccuracy) {
  FeatureRecipe standard;
  auto f = fit_on("auto_mpg", "mpg", Task::kRegression, "mlp", standard, {{"max_epochs", 20}, {"width", 32}});
  const Pipeline& p = f.pipeline;
  EXPECT_FALSE(has_exact_shap(p));
  const Table x = first_rows(f.table, 3);
  std::vector<double> w;
  const Table bg = kmeans_background(p, f.table, 8, 0, w);
  EXPECT_LE(bg.num_rows, 8u);
  EXPECT_NEAR(std::accumulate(w.begin(), w.end(), 0.0), double(f.table.num_rows), 1e-9);
  expect_local_accuracy(kernel_shap(p, x, bg, w, {128, 8, 0}), p, x, 1e-3);
}

TEST(FeatureMap, EveryDerivedColumnMapsBackToItsInputColumn) {
  std::string csv = "num,cat,txt,day,y\n";
  for (int i = 0; i < 60; ++i)
    csv += (i % 9 == 0 ? std::string("") : std::to_string(i * 0.5)) + "," +
           std::string(1, static_cast<char>('a' + i % 3)) + ",\"word" + std::to_string(i % 5) +
           " other words here\",2020-01-" + (i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) +
           "," + std::to_string(i % 7) + "\n";
  CsvOptions o;
  o.type_overrides = {{"txt", ColumnType::kText}, {"cat", ColumnType::kCategorical},
                      {"day", ColumnType::kDatetime}};
  const Table t = parse_csv(csv, "mixed.csv", o);
  FeatureRecipe recipe;
  recipe.min_category_count = 1;
  recipe.text_hash_width = 16;
  FeatureTransform ft;
  std::vector<size_t> rows(t.num_rows);
  std::iota(rows.begin(), rows.end(), size_t{0});
  ft.fit(t, {"num", "cat", "txt", "day"}, rows, recipe);
  const auto& src = ft.output_sources();
  ASSERT_EQ(src.size(), ft.width());
  std::map<std::string, size_t> count;
  for (const auto& s : src) count[s]++;
  EXPECT_EQ(count.size(), 4u);
  EXPECT_EQ(count["num"], 2u);      // value + missing indicator
  EXPECT_GE(count["cat"], 3u);      // one-hot slots a, b, c (+ other)
  EXPECT_EQ(count["txt"], 16u);     // hashed buckets
  EXPECT_GE(count["day"], 2u);      // calendar parts
  // Each column's derived features are contiguous.
  std::set<std::string> closed;
  for (size_t j = 0; j < src.size(); ++j) {
    if (j > 0 && src[j] != src[j - 1]) closed.insert(src[j - 1]);
    EXPECT_FALSE(closed.count(src[j])) << src[j] << " is split";
  }

  // Exact SHAP sums a column's derived contributions into that column.
  Pipeline p;
  p.task = Task::kRegression;
  p.features = {"num", "cat", "txt", "day"};
  for (const auto& f : p.features) p.feature_types.push_back(t.at(f).type);
  PipelineMember m;
  m.transform = ft;
  m.learner_name = "linear";
  m.learner = make_learner("linear");
  Matrix x = ft.transform(t);
  std::vector<float> y(t.at("y").numeric.begin(), t.at("y").numeric.end());
  FitData d;
  d.x_train = x.view();
  d.y_train = &y;
  m.learner->fit(d, default_params(learner_params("linear")), FitContext{});
  std::vector<float> raw;
  ASSERT_TRUE(m.learner->contributions(x.view(), raw));
  p.members.push_back(std::move(m));
  const ShapExplanation e = exact_shap(p, t);
  for (size_t r = 0; r < 5; ++r)
    for (size_t f = 0; f < 4; ++f) {
      double s = 0;
      for (size_t j = 0; j < src.size(); ++j)
        if (src[j] == p.features[f]) s += raw[r * (src.size() + 1) + j];
      EXPECT_NEAR(e.value(r, 0, f), s, 1e-6) << p.features[f];
    }
}

}  // namespace
}  // namespace tabpilot
