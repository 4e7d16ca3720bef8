#include "tabpilot/trainer/pipeline.h"

#include <cmath>

#include "tabpilot/common/error.h"
#include "tabpilot/common/files.h"

namespace tabpilot {

namespace {
constexpr int kFormatVersion = 1;
}

std::vector<double> Pipeline::member_shares() const {
  double total = 0;
  for (const auto& m : members) total += m.weight;
  std::vector<double> shares(members.size(), members.empty() ? 0.0 : 1.0 / members.size());
  if (total > 0)
    for (size_t i = 0; i < members.size(); ++i) shares[i] = members[i].weight / total;
  return shares;
}

std::vector<float> Pipeline::predict(const Table& table) const {
  if (members.empty()) throw std::runtime_error("pipeline has no fitted members");
  const size_t width = static_cast<size_t>(num_classes());
  const std::vector<double> shares = member_shares();
  std::vector<float> sum(table.num_rows * width, 0.0f), one;
  for (size_t k = 0; k < members.size(); ++k) {
    const auto& m = members[k];
    if (shares[k] == 0) continue;
    Matrix x = m.transform.transform(table);
    m.learner->predict(x.view(), one);
    if (one.size() != sum.size())
      throw std::runtime_error("learner '" + m.learner_name + "' returned " +
                               std::to_string(one.size()) + " values for " +
                               std::to_string(table.num_rows) + " rows");
    const float w = static_cast<float>(shares[k]);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += w * one[i];
  }
  return sum;
}

CsvOptions Pipeline::csv_options() const {
  CsvOptions o;
  for (size_t i = 0; i < features.size(); ++i) o.type_overrides[features[i]] = feature_types[i];
  o.never_id = features;
  o.never_id.push_back(target);
  o.required_columns = features;
  o.required_note = " (the model needs " + std::to_string(features.size()) +
                    " columns: the training columns without the target)";
  return o;
}

std::map<std::string, std::string> Pipeline::to_files() const {
  std::map<std::string, std::string> files;
  nlohmann::json members_json = nlohmann::json::array();
  for (size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    auto bytes = m.learner->serialize();
    std::string blob(bytes.begin(), bytes.end());
    std::string file = "member_" + std::to_string(i) + "." + m.learner_name + ".bin";
    members_json.push_back({{"learner", m.learner_name},
                            {"params", m.params},
                            {"fit_info", m.learner->fit_info()},
                            {"transform", m.transform.to_json()},
                            {"weights", {{"file", file}, {"sha256", sha256_hex(blob)},
                                         {"bytes", blob.size()}}}});
    if (m.weight > 0) members_json.back()["weight"] = m.weight;
    if (!m.trial.empty()) members_json.back()["trial"] = m.trial;
    files[file] = std::move(blob);
  }
  nlohmann::json types = nlohmann::json::array();
  for (auto t : feature_types) types.push_back(to_string(t));
  nlohmann::json body = {{"format", "tabpilot-pipeline"},
                         {"format_version", kFormatVersion},
                         {"problem_type", to_string(task)},
                         {"target", target},
                         {"candidate", candidate},
                         {"features", features},
                         {"feature_types", types},
                         {"labels", labels},
                         {"members", members_json}};
  if (task == Task::kBinary) body["decision_threshold"] = decision_threshold;
  // model.json carries its own checksum over the canonical dump of everything else.
  body["sha256"] = sha256_hex(body.dump());
  files[kModelFile] = body.dump(2) + "\n";
  return files;
}

void Pipeline::save(const std::filesystem::path& dir) const {
  const auto files = to_files();
  // model.json last: a reader that finds it finds the weights it names.
  for (const auto& [name, bytes] : files)
    if (name != kModelFile) write_file_atomic(dir / name, bytes);
  write_file_atomic(dir / kModelFile, files.at(kModelFile));
}

Pipeline Pipeline::load(const std::filesystem::path& dir) {
  auto path = dir / kModelFile;
  if (!std::filesystem::exists(path))
    throw InputError(path.string() + ": no model here (expected a job folder or its model/)");
  return from_files(dir.string(), [&](const std::string& name) { return read_file(dir / name); });
}

Pipeline Pipeline::from_files(const std::map<std::string, std::string>& files,
                              const std::string& where) {
  return from_files(where, [&](const std::string& name) {
    auto it = files.find(name);
    if (it == files.end())
      throw InputError((std::filesystem::path(where) / name).string() + ": missing");
    return it->second;
  });
}

Pipeline Pipeline::from_files(const std::string& where,
                              const std::function<std::string(const std::string&)>& read) {
  const auto path = std::filesystem::path(where) / kModelFile;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read(kModelFile));
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || j.value("format", "") != "tabpilot-pipeline")
    throw InputError(path.string() + ": not a tabpilot model");
  std::string want = j.value("sha256", "");
  nlohmann::json body = j;
  body.erase("sha256");
  if (want != sha256_hex(body.dump()))
    throw InputError(path.string() + ": checksum mismatch (the file was changed or truncated)");
  Pipeline p;
  p.task = task_from_string(j.at("problem_type").get<std::string>());
  p.target = j.at("target");
  p.candidate = j.value("candidate", "");
  p.features = j.at("features").get<std::vector<std::string>>();
  for (const auto& t : j.at("feature_types")) p.feature_types.push_back(column_type_from_string(t.get<std::string>()));
  p.labels = j.at("labels").get<std::vector<std::string>>();
  p.decision_threshold = j.value("decision_threshold", 0.5f);
  if (!(p.decision_threshold >= 0.0f && p.decision_threshold <= 1.0f))
    throw InputError(path.string() + ": decision_threshold must be between 0 and 1");
  for (const auto& mj : j.at("members")) {
    PipelineMember m;
    m.learner_name = mj.at("learner");
    m.params = mj.at("params");
    m.weight = mj.value("weight", 0.0);
    m.trial = mj.value("trial", "");
    if (!(m.weight >= 0) || !std::isfinite(m.weight))
      throw InputError(path.string() + ": member weight must be a finite non-negative number");
    m.transform = FeatureTransform::from_json(mj.at("transform"));
    const auto& w = mj.at("weights");
    const std::string file = w.at("file").get<std::string>();
    const auto file_path = std::filesystem::path(where) / file;
    if (file.find('/') != std::string::npos || file == ".." || file == ".")
      throw InputError(path.string() + ": a weights file name must be a plain name, got '" + file + "'");
    std::string blob = read(file);
    if (blob.size() != w.at("bytes").get<size_t>() || sha256_hex(blob) != w.at("sha256"))
      throw InputError(file_path.string() + ": checksum mismatch (the file was changed or truncated)");
    m.learner = make_learner(m.learner_name);
    m.learner->deserialize(std::vector<uint8_t>(blob.begin(), blob.end()));
    p.members.push_back(std::move(m));
  }
  return p;
}

}  // namespace tabpilot
