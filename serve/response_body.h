// Predictions -> an invocation response in Autopilot's inference-response shape (contract 2.8):
// the keys chosen by SAGEMAKER_INFERENCE_OUTPUT, encoded as text/csv (one row per record,
// columns in key order), application/json ({"predictions":[{...}, ...]}) or
// application/jsonlines (one object per line).
//
// Keys: predicted_label (the label with the highest probability; binary: P(second label) >=
// 0.5, the threshold of the metrics and batch predict), probability (P(predicted_label), as
// Autopilot's ensembling container and our batch predict report it), probabilities (all
// classes, in `labels` order), labels. Regression: predicted_label is the predicted value (a
// number; Autopilot's regression container returns just the value) and the other keys are not
// available, which the contract says become NaN: "nan" in CSV, null in JSON. In CSV, the
// list keys are written as Python's str() of the list ("[0.1, 0.9]", "['a', 'b']"), quoted.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tabpilot::serve {

enum class OutputKey { kPredictedLabel, kProbability, kProbabilities, kLabels };
enum class Format { kCsv, kJson, kJsonLines };

// "predicted_label, Probability" -> keys in that order; case and blanks tolerated. Throws
// InputError naming an unknown key and listing the known ones; empty -> predicted_label.
std::vector<OutputKey> parse_output_keys(std::string_view spec);
std::string_view key_name(OutputKey key);

// "text/csv" | "application/json" | "application/jsonlines" (also "application/json-lines"
// and "application/x-jsonlines"); false for anything else.
bool format_from_media_type(std::string_view media_type, Format* format);
std::string_view content_type_of(Format format);

// Holds what every response repeats (escaped labels, the label lists) so that encoding a
// response is only number formatting and appends.
class ResponseEncoder {
 public:
  // `threshold`: binary only, class 1 when its probability is at least this (the model's
  // decision_threshold).
  ResponseEncoder(bool classification, std::vector<std::string> labels,
                  std::vector<OutputKey> keys, float threshold = 0.5f);
  // `values`: regression, one per row; classification, rows * labels.size() probabilities.
  // Appends the encoded response to `out`.
  void encode(const std::vector<float>& values, size_t rows, Format format, std::string& out) const;

 private:
  void csv_row(const float* v, std::string& out) const;
  void json_object(const float* v, std::string& out) const;

  size_t top_class(const float* v) const;

  bool classification_;
  float threshold_ = 0.5f;
  std::vector<std::string> labels_;
  std::vector<OutputKey> keys_;
  std::vector<std::string> csv_labels_, json_labels_;  // each label quoted for CSV / JSON
  std::string csv_label_list_, json_label_list_;       // the labels key's value
};

}  // namespace tabpilot::serve
