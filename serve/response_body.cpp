#include "tabpilot/serve/response_body.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"

namespace tabpilot::serve {
namespace {

constexpr OutputKey kAllKeys[] = {OutputKey::kPredictedLabel, OutputKey::kProbability,
                                  OutputKey::kProbabilities, OutputKey::kLabels};

// Shortest text that reads back to the same float; NaN as `nan_text`.
void append_float(std::string& out, float v, std::string_view nan_text) {
  if (std::isnan(v)) {
    out += nan_text;
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Python's repr of a str, for the CSV form of the labels list.
std::string python_repr(const std::string& s) {
  const char q = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == '\\' || c == q) out.push_back('\\');
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}

}  // namespace

std::string_view key_name(OutputKey key) {
  switch (key) {
    case OutputKey::kPredictedLabel: return "predicted_label";
    case OutputKey::kProbability: return "probability";
    case OutputKey::kProbabilities: return "probabilities";
    case OutputKey::kLabels: return "labels";
  }
  return "";
}

std::vector<OutputKey> parse_output_keys(std::string_view spec) {
  std::vector<OutputKey> keys;
  while (true) {
    const size_t comma = spec.find(',');
    std::string name(spec.substr(0, comma));
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name.empty()) {
      bool found = false;
      for (OutputKey k : kAllKeys)
        if (key_name(k) == name) {
          keys.push_back(k);
          found = true;
        }
      if (!found)
        throw InputError("SAGEMAKER_INFERENCE_OUTPUT / --output-keys: unknown key '" + name +
                         "'; use predicted_label, probability, probabilities, labels");
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  if (keys.empty()) keys.push_back(OutputKey::kPredictedLabel);
  return keys;
}

bool format_from_media_type(std::string_view m, Format* format) {
  if (m == "text/csv") *format = Format::kCsv;
  else if (m == "application/json") *format = Format::kJson;
  else if (m == "application/jsonlines" || m == "application/json-lines" ||
           m == "application/x-jsonlines")
    *format = Format::kJsonLines;
  else return false;
  return true;
}

std::string_view content_type_of(Format format) {
  switch (format) {
    case Format::kCsv: return "text/csv";
    case Format::kJson: return "application/json";
    case Format::kJsonLines: return "application/jsonlines";
  }
  return "";
}

ResponseEncoder::ResponseEncoder(bool classification, std::vector<std::string> labels,
                                 std::vector<OutputKey> keys, float threshold)
    : classification_(classification),
      threshold_(threshold),
      labels_(std::move(labels)),
      keys_(std::move(keys)) {
  std::string py = "[";
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < labels_.size(); ++i) {
    std::string field;
    append_csv_field(field, labels_[i]);
    csv_labels_.push_back(field);
    json_labels_.push_back(nlohmann::json(labels_[i]).dump());
    if (i) py += ", ";
    py += python_repr(labels_[i]);
    list.push_back(labels_[i]);
  }
  py += "]";
  append_csv_field(csv_label_list_, py);
  json_label_list_ = list.dump();
}

size_t ResponseEncoder::top_class(const float* v) const {
  const size_t k = labels_.size();
  if (!classification_) return 0;
  if (k == 2) return v[1] >= threshold_ ? 1 : 0;
  size_t top = 0;
  for (size_t c = 1; c < k; ++c)
    if (v[c] > v[top]) top = c;
  return top;
}

void ResponseEncoder::csv_row(const float* v, std::string& out) const {
  const size_t k = labels_.size();
  const size_t top = top_class(v);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i) out.push_back(',');
    if (!classification_) {
      if (keys_[i] == OutputKey::kPredictedLabel) append_float(out, v[0], "nan");
      else out += "nan";
      continue;
    }
    switch (keys_[i]) {
      case OutputKey::kPredictedLabel: out += csv_labels_[top]; break;
      case OutputKey::kProbability: append_float(out, v[top], "nan"); break;
      case OutputKey::kProbabilities: {
        std::string list = "[";
        for (size_t c = 0; c < k; ++c) {
          if (c) list += ", ";
          append_float(list, v[c], "nan");
        }
        list += "]";
        append_csv_field(out, list);
        break;
      }
      case OutputKey::kLabels: out += csv_label_list_; break;
    }
  }
  out.push_back('\n');
}

void ResponseEncoder::json_object(const float* v, std::string& out) const {
  const size_t k = labels_.size();
  const size_t top = top_class(v);
  out.push_back('{');
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out += key_name(keys_[i]);
    out += "\":";
    if (!classification_) {
      if (keys_[i] == OutputKey::kPredictedLabel) append_float(out, v[0], "null");
      else out += "null";
      continue;
    }
    switch (keys_[i]) {
      case OutputKey::kPredictedLabel: out += json_labels_[top]; break;
      case OutputKey::kProbability: append_float(out, v[top], "null"); break;
      case OutputKey::kProbabilities:
        out.push_back('[');
        for (size_t c = 0; c < k; ++c) {
          if (c) out.push_back(',');
          append_float(out, v[c], "null");
        }
        out.push_back(']');
        break;
      case OutputKey::kLabels: out += json_label_list_; break;
    }
  }
  out.push_back('}');
}

void ResponseEncoder::encode(const std::vector<float>& values, size_t rows, Format format,
                             std::string& out) const {
  const size_t width = classification_ ? labels_.size() : 1;
  if (values.size() != rows * width)
    throw std::logic_error("response: " + std::to_string(values.size()) + " values for " +
                           std::to_string(rows) + " rows");
  switch (format) {
    case Format::kCsv:
      for (size_t r = 0; r < rows; ++r) csv_row(values.data() + r * width, out);
      return;
    case Format::kJson:
      out += "{\"predictions\":[";
      for (size_t r = 0; r < rows; ++r) {
        if (r) out.push_back(',');
        json_object(values.data() + r * width, out);
      }
      out += "]}";
      return;
    case Format::kJsonLines:
      for (size_t r = 0; r < rows; ++r) {
        json_object(values.data() + r * width, out);
        out.push_back('\n');
      }
      return;
  }
}

}  // namespace tabpilot::serve
