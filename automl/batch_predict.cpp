// Batch transform: CSV in, predictions out, through Pipeline::predict. Columns are matched
// by name; the target column may be present (it is ignored).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tabpilot/automl/job.h"
#include "tabpilot/automl/job_folder.h"
#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"
#include "tabpilot/common/log.h"
#include "tabpilot/data/csv.h"
#include "tabpilot/trainer/pipeline.h"

namespace fs = std::filesystem;

namespace tabpilot {
namespace {

std::string csv_field(const std::string& s) {
  std::string out;
  append_csv_field(out, s);
  return out;
}

}  // namespace

size_t predict_csv(const std::string& job_or_model_dir, const std::string& input_csv,
                   const std::string& output_csv) {
  fs::path dir(job_or_model_dir);
  fs::path model_dir = fs::exists(dir / "model.json") ? dir : dir / kModelDir;
  if (!fs::exists(model_dir / "model.json")) {
    if (fs::exists(dir / kJobFile))
      throw InputError(job_or_model_dir + ": this job has no model (it failed or is still running)");
    throw InputError(job_or_model_dir + ": not a job folder or model folder (no model.json)");
  }
  Pipeline p = Pipeline::load(model_dir);
  if (output_csv != "-") check_output_file(output_csv, "-o");
  Table table = read_csv(input_csv, p.csv_options());  // names a missing feature column
  for (const auto& c : table.columns)
    if (c.strays.count > 0)
      log::warn(input_csv + ": column '" + c.name + "' is numeric but " +
                std::to_string(c.strays.count) + (c.strays.count == 1 ? " value is" : " values are") +
                " not a number (first: '" + c.strays.first + "' on line " +
                std::to_string(c.strays.line) + "); read as missing");
  std::vector<float> pred = p.predict(table);

  std::ofstream file;
  std::ostream* out = &std::cout;
  // The temporary file goes whatever happens; only a complete file is renamed into place.
  struct RemoveTmp {
    fs::path path;
    ~RemoveTmp() {
      std::error_code ec;
      if (!path.empty()) fs::remove(path, ec);
    }
  } tmp;
  if (output_csv != "-") {
    tmp.path = output_csv + ".tmp";
    file.open(tmp.path, std::ios::binary | std::ios::trunc);
    if (!file) throw InputError("-o " + output_csv + ": cannot write (" + std::strerror(errno) + ")");
    out = &file;
  }
  const int k = p.num_classes();
  *out << "predicted_label";
  if (is_classification(p.task)) {
    *out << ",probability";
    for (const auto& l : p.labels) *out << "," << csv_field("probability_" + l);
  }
  *out << "\n";
  char buf[64];
  std::string line;
  for (size_t r = 0; r < table.num_rows; ++r) {
    line.clear();
    if (!is_classification(p.task)) {
      std::snprintf(buf, sizeof buf, "%.9g", pred[r]);
      line += buf;
    } else {
      const float* prob = pred.data() + r * static_cast<size_t>(k);
      const int best = p.predicted_class(prob);
      line += csv_field(p.labels[static_cast<size_t>(best)]);
      std::snprintf(buf, sizeof buf, ",%.6g", prob[best]);
      line += buf;
      for (int c = 0; c < k; ++c) {
        std::snprintf(buf, sizeof buf, ",%.6g", prob[c]);
        line += buf;
      }
    }
    line += '\n';
    out->write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  out->flush();
  if (!*out) throw std::runtime_error(output_csv + ": write failed (disk full?)");
  if (output_csv != "-") {
    file.close();
    std::error_code ec;
    fs::rename(tmp.path, output_csv, ec);
    if (ec) throw InputError("-o " + output_csv + ": cannot write (" + ec.message() + ")");
    tmp.path.clear();
  }
  return table.num_rows;
}

}  // namespace tabpilot
