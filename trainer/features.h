// Feature engineering: a recipe (what to do per column kind) and the transform fitted from
// it on training rows only. The fitted transform is stored in the model and applied
// identically at prediction; columns are matched by name, categories by their text.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tabpilot/data/table.h"
#include "tabpilot/kernels/matrix.h"

namespace tabpilot {

// A category value longer than this never gets a slot or code of its own (it goes to
// "other"): model.json holds every kept value, and its size must not follow the widest cell.
inline constexpr size_t kMaxCategoryBytes = 256;

struct FeatureRecipe {
  enum class Scaling { kStandard, kRobust, kNone };
  enum class Categorical { kOneHot, kOrdinal };
  Scaling scaling = Scaling::kStandard;
  bool missing_indicators = true;
  bool impute = true;  // false: numeric NaN stays NaN (for learners that handle it, e.g. trees)
  Categorical categorical = Categorical::kOneHot;
  int max_one_hot = 100;       // most frequent categories kept (Autopilot: 100)
  int min_category_count = 10;  // keep a category seen >= max(this, rows/1000) times
  int text_hash_width = 128;   // hashed TF-IDF buckets per text column

  nlohmann::json to_json() const;
  static FeatureRecipe from_json(const nlohmann::json& j);
  // One line per column kind, for candidate definitions and logs.
  std::string describe() const;
};

// The fitted state of one input column.
struct ColumnTransform {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  // numeric, and each datetime part
  float fill = 0, center = 0, inv_scale = 1;
  bool indicator = false;
  // categorical: kept categories (one-hot slots or ordinal values, most frequent first);
  // everything else, unseen values included, goes to the "other" slot / value.
  std::vector<std::string> kept;
  bool other_slot = false;
  // datetime: parts kept (DatePart as int), with their scaling in part_fill/center/scale
  std::vector<int> parts;
  std::vector<float> part_fill, part_center, part_inv_scale;
  // text: inverse document frequency per hash bucket
  std::vector<float> idf;
  size_t width = 0;  // output columns
};

class FeatureTransform {
 public:
  // Fits on `rows` of `table` (training rows only) for the named feature columns.
  void fit(const Table& table, const std::vector<std::string>& features,
           const std::vector<size_t>& rows, const FeatureRecipe& recipe);
  // All rows of `table` (rows == nullptr) or the given ones. Throws InputError naming a
  // feature column that `table` lacks or that has a different kind of values.
  Matrix transform(const Table& table, const std::vector<size_t>* rows = nullptr) const;

  size_t width() const { return width_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  // Input column each output column came from (for explanations summed back per column).
  const std::vector<std::string>& output_sources() const { return output_sources_; }
  const FeatureRecipe& recipe() const { return recipe_; }
  const std::vector<ColumnTransform>& columns() const { return columns_; }

  nlohmann::json to_json() const;
  static FeatureTransform from_json(const nlohmann::json& j);

 private:
  void finish_layout();
  FeatureRecipe recipe_;
  std::vector<ColumnTransform> columns_;
  std::vector<std::string> output_names_, output_sources_;
  size_t width_ = 0;
};

// Hashed bag of words used by the text transform: lower-cased ASCII letter/digit runs,
// FNV-1a into `width` buckets. Exposed for tests.
std::vector<std::pair<uint32_t, float>> hash_tokens(const std::string& text, int width);

}  // namespace tabpilot
