#include "tabpilot/automl/validation_predictions.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/data/csv.h"

namespace tabpilot {

void save_validation_predictions(const std::filesystem::path& file, const ValidationPredictions& v) {
  const size_t width = static_cast<size_t>(v.num_classes());
  if (v.rows.size() != v.size() || v.pred.size() != v.size() * width)
    throw std::invalid_argument("save_validation_predictions: sizes do not match");
  std::string out = "# problem_type=" + std::string(to_string(v.task));
  if (v.task == Task::kBinary) {
    char t[48];
    std::snprintf(t, sizeof t, " decision_threshold=%.9g", v.decision_threshold);
    out += t;
  }
  out += "\nrow,label";
  if (is_classification(v.task)) {
    for (const auto& l : v.labels) {
      out += ',';
      append_csv_field(out, "probability_" + l);
    }
  } else {
    out += ",prediction";
  }
  out += '\n';
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    out += std::to_string(v.rows[i]);
    out += ',';
    if (is_classification(v.task)) {
      append_csv_field(out, v.labels.at(static_cast<size_t>(v.y_true[i])));
    } else {
      std::snprintf(buf, sizeof buf, "%.9g", v.y_true[i]);
      out += buf;
    }
    for (size_t k = 0; k < width; ++k) {
      std::snprintf(buf, sizeof buf, ",%.9g", v.pred[i * width + k]);
      out += buf;
    }
    out += '\n';
  }
  write_file_atomic(file, out);
}

ValidationPredictions load_validation_predictions(const std::filesystem::path& file) {
  std::string text = read_file(file);
  const std::string name = file.string();
  const std::string magic = "# problem_type=";
  if (text.compare(0, magic.size(), magic) != 0)
    throw InputError(name + ":1: expected '" + magic + "<type>'");
  size_t eol = text.find('\n');
  if (eol == std::string::npos) throw InputError(name + ":1: no header row");
  ValidationPredictions v;
  std::string head = text.substr(magic.size(), eol - magic.size());
  const std::string tkey = " decision_threshold=";
  if (size_t at = head.find(tkey); at != std::string::npos) {
    try {
      v.decision_threshold = std::stof(head.substr(at + tkey.size()));
    } catch (const std::exception&) {
      throw InputError(name + ":1: decision_threshold is not a number");
    }
    head.resize(at);
  }
  v.task = task_from_string(head);
  CsvOptions options;
  options.never_id = {"row", "label"};
  // Class labels stay text exactly as written ("007" is not the number 7).
  if (is_classification(v.task)) options.type_overrides["label"] = ColumnType::kText;
  Table t = parse_csv(std::string_view(text).substr(eol + 1), name, options);
  if (t.columns.size() < 3 || t.columns[0].name != "row" || t.columns[1].name != "label")
    throw InputError(name + ":2: expected columns row,label,<predictions>");
  const size_t width = t.columns.size() - 2;
  if (is_classification(v.task)) {
    for (size_t k = 0; k < width; ++k) {
      const std::string& c = t.columns[k + 2].name;
      if (c.rfind("probability_", 0) != 0)
        throw InputError(name + ":2: column '" + c + "' should be probability_<label>");
      v.labels.push_back(c.substr(12));
    }
  } else if (width != 1) {
    throw InputError(name + ":2: a regression file has one prediction column");
  }
  std::map<std::string, float> class_of;
  for (size_t k = 0; k < v.labels.size(); ++k) class_of[v.labels[k]] = static_cast<float>(k);
  auto number = [&](const Column& c, size_t i) {
    if (c.type != ColumnType::kNumeric || c.is_missing(i))
      throw InputError(name + ":" + std::to_string(i + 3) + ": column '" + c.name +
                       "' needs a number");
    return c.numeric[i];
  };
  for (size_t i = 0; i < t.num_rows; ++i) {
    v.rows.push_back(static_cast<size_t>(number(t.columns[0], i)));
    if (is_classification(v.task)) {
      std::string label = t.columns[1].value_string(i);
      auto it = class_of.find(label);
      if (it == class_of.end())
        throw InputError(name + ":" + std::to_string(i + 3) + ": unknown label '" + label + "'");
      v.y_true.push_back(it->second);
    } else {
      v.y_true.push_back(static_cast<float>(number(t.columns[1], i)));
    }
    for (size_t k = 0; k < width; ++k)
      v.pred.push_back(static_cast<float>(number(t.columns[k + 2], i)));
  }
  return v;
}

}  // namespace tabpilot
