// SHAP explanations of a fitted Pipeline per INPUT column: exact (XGBoost TreeSHAP, linear
// w_j (x_j - mean_j), through Learner::contributions) and model-agnostic Kernel SHAP (Lundberg
// & Lee 2017: a weighted linear regression over feature coalitions with the SHAP kernel
// weights, absent columns filled from a k-means background of training rows).
//
// What is explained: Kernel SHAP explains the pipeline's output — the value (regression), the
// probability of the positive class (binary, class index 1) or of each class (multiclass).
// Exact methods work in the learners' margin space — the value, the log-odds of class 1, or
// each class's softmax input — so their values add up to the margin, not the probability.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tabpilot/data/table.h"
#include "tabpilot/trainer/pipeline.h"

namespace tabpilot {

struct ShapExplanation {
  std::string method;        // "kernel_shap" | "tree_shap" | "linear_shap" | "exact_shap" (mixed)
  std::string output_space;  // "value" | "probability" | "log_odds" | "margin"
  std::vector<std::string> features;  // the pipeline's input columns
  std::vector<std::string> outputs;   // one name per explained output (label text or "value")
  size_t rows = 0;
  std::vector<double> values;      // [(row * outputs + o) * features + f]
  std::vector<double> expected;    // [row * outputs + o]: base value (same for all rows here)
  std::vector<double> prediction;  // [row * outputs + o]: the output explained, = expected + sum
  double value(size_t row, size_t o, size_t f) const {
    return values[(row * outputs.size() + o) * features.size() + f];
  }
  // Mean |SHAP| per feature for output o.
  std::vector<double> global_mean_abs(size_t o) const;
};

struct KernelShapOptions {
  int samples = 256;        // coalitions per row; all 2^M - 2 when that is fewer
  int background_size = 16;  // k-means centres (as real training rows) filling absent columns
  uint64_t seed = 0;
  // Past it, no further row is started: the explanation holds the rows done (at least one).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// Seconds Kernel SHAP's regression alone needs per explained row, from the column count, the
// coalitions and the outputs (a conservative flop count at 0.5 GFLOP/s): what decides, before
// anything runs, whether a time budget allows Kernel SHAP at all on wide data.
double kernel_shap_solve_seconds(size_t columns, int samples, size_t outputs);

// The coalitions Kernel SHAP evaluates and their regression weights. Full enumeration when
// 2^m - 2 <= samples (exact SHAP values for the background); otherwise paired sampling of
// coalition sizes in proportion to the kernel's total weight per size, equal weights.
struct Coalitions {
  int m = 0;
  std::vector<uint8_t> masks;  // count x m, 1 = column taken from the explained row
  std::vector<double> weights;
  bool exhaustive = false;
  size_t count() const { return weights.size(); }
};
Coalitions shap_coalitions(int m, int samples, uint64_t seed);
// SHAP values from the model's value on each coalition (mean over the background), subject to
// sum(phi) = fx - e0 (eliminated exactly, so local accuracy holds to rounding).
std::vector<double> solve_kernel_shap(const Coalitions& c, const std::vector<double>& v, double fx,
                                      double e0);

// Background rows: k-means (k-means++ seeding) over standardised features of up to 2000
// sampled rows of `train`, each centre replaced by its nearest real row, weighted by its
// cluster's size. Real rows keep every column type (categories, text) meaningful.
Table kmeans_background(const Pipeline& p, const Table& train, int k, uint64_t seed,
                        std::vector<double>& weights);

// Kernel SHAP of `rows` (typed with p.csv_options()).
ShapExplanation kernel_shap(const Pipeline& p, const Table& rows, const Table& background,
                            const std::vector<double>& background_weights,
                            const KernelShapOptions& options);

// True when every member's learner has exact contributions and they can be averaged in the
// space the pipeline averages (regression with any members, classification with one member).
bool has_exact_shap(const Pipeline& p);
// Exact SHAP per input column (derived features summed back through output_sources()).
// Throws std::logic_error when !has_exact_shap(p).
ShapExplanation exact_shap(const Pipeline& p, const Table& rows);

// A table holding a's rows then b's (same column names and types; categories merged by text).
Table concat_tables(const Table& a, const Table& b);

}  // namespace tabpilot
