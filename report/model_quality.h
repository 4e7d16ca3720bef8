// The best candidate's model quality on its validation (or out-of-fold) rows: SageMaker Model
// Monitor's model-quality JSON (regression_metrics / binary_classification_metrics /
// multiclass_classification_metrics, each metric {"value", "standard_deviation"}) and the
// model_quality.html report with its charts.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tabpilot/automl/validation_predictions.h"

namespace tabpilot {

// Standard deviations, as Model Monitor computes them, only from 200 rows on: the metric over
// 5 random 80% subsamples (without replacement); "NaN" below that.
inline constexpr size_t kMinRowsForStd = 200;

// {"version":"1.0","dataset":{"item_count":N},"<kind>_metrics":{...}}; binary curves and
// the confusion matrix (keyed by label text) come from all rows.
nlohmann::json model_quality_metrics(const ValidationPredictions& v, uint64_t seed = 0);

// details: {"candidate","job","problem_type","objective_metric","direction","rows_source"}.
std::string model_quality_html(const ValidationPredictions& v, const nlohmann::json& metrics,
                               const nlohmann::json& details);

}  // namespace tabpilot
