// constraints.json from baseline statistics, and the checks of new data against them
// (contract 5.3): data type, completeness, drift, missing/extra columns, unknown categories.
#include <cmath>
#include <cstdio>
#include <set>

#include "tabpilot/common/error.h"
#include "tabpilot/monitor/drift.h"
#include "tabpilot/monitor/monitor.h"
#include "tabpilot/monitor/statistics.h"

namespace tabpilot::monitor {

nlohmann::json suggest_constraints(const nlohmann::json& statistics) {
  nlohmann::json features = nlohmann::json::array();
  for (const auto& fj : statistics.at("features")) {
    const FeatureStatistics f = feature_from_json(fj, "statistics.json");
    nlohmann::json c = {{"name", f.name},
                        {"inferred_type", f.inferred_type},
                        {"completeness", f.completeness()}};
    if (is_numeric_type(f.inferred_type)) {
      c["num_constraints"] = {{"is_non_negative", f.num_present > 0 && f.min >= 0}};
    } else if (f.inferred_type == "String" && f.distinct_count <= kMaxDomainSize &&
               f.counts.size() == f.distinct_count) {
      nlohmann::json domains = nlohmann::json::array();
      for (const auto& [value, count] : f.counts) domains.push_back(value);
      c["string_constraints"] = {{"domains", domains}};
    }
    features.push_back(c);
  }
  return {{"version", 0},
          {"features", features},
          {"monitoring_config",
           {{"evaluate_constraints", "Enabled"},
            {"emit_metrics", "Enabled"},
            {"datatype_check_threshold", 0.1},
            {"domain_content_threshold", 0.1},
            {"distribution_constraints",
             {{"perform_comparison", "Enabled"},
              {"comparison_threshold", 0.1},
              {"comparison_method", "Robust"},
              {"categorical_comparison_threshold", 0.1},
              {"categorical_drift_method", "LInfinity"}}}}}};
}

namespace {

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * x);
  return buf;
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

// The monitoring_config with a feature's monitoringConfigOverrides applied (same keys).
nlohmann::json effective_config(const nlohmann::json& constraints, const nlohmann::json& feature) {
  nlohmann::json cfg = constraints.value("monitoring_config", nlohmann::json::object());
  if (!cfg.contains("distribution_constraints"))
    cfg["distribution_constraints"] = nlohmann::json::object();
  if (feature.contains("monitoringConfigOverrides"))
    for (const auto& [key, value] : feature["monitoringConfigOverrides"].items()) {
      if (cfg["distribution_constraints"].contains(key) ||
          key.find("comparison") != std::string::npos || key == "categorical_drift_method")
        cfg["distribution_constraints"][key] = value;
      else
        cfg[key] = value;
    }
  return cfg;
}

nlohmann::json violation(const std::string& feature, const std::string& type,
                         const std::string& description) {
  return {{"feature_name", feature}, {"constraint_check_type", type}, {"description", description}};
}

}  // namespace

nlohmann::json find_violations(const Table& current, const std::vector<std::string>& extra_columns,
                               const nlohmann::json& baseline_statistics,
                               const nlohmann::json& constraints) {
  std::map<std::string, FeatureStatistics> base;
  for (const auto& fj : baseline_statistics.at("features")) {
    FeatureStatistics f = feature_from_json(fj, "baseline statistics.json");
    base.emplace(f.name, std::move(f));
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& fc : constraints.at("features")) {
    const std::string name = fc.at("name").get<std::string>();
    const std::string type = fc.value("inferred_type", "Unknown");
    const nlohmann::json cfg = effective_config(constraints, fc);
    const bool evaluate = cfg.value("evaluate_constraints", "Enabled") == "Enabled";
    const int col = current.find(name);
    if (col < 0) {
      out.push_back(violation(name, "missing_column_check",
                              "Column '" + name + "' of the baseline is missing from the data"));
      continue;
    }
    const ColumnValues values = classify(current.columns[static_cast<size_t>(col)]);
    size_t present = 0, strings = 0, fractional = 0, missing = 0;
    for (ValueKind k : values.kinds) {
      if (k == ValueKind::kMissing) ++missing;
      else ++present;
      if (k == ValueKind::kString) ++strings;
      if (k == ValueKind::kFractional) ++fractional;
    }
    if (evaluate && is_numeric_type(type) && present > 0) {
      const size_t off = strings + (type == "Integral" ? fractional : 0);
      const double match = 1.0 - static_cast<double>(off) / static_cast<double>(present);
      const double threshold = cfg.value("datatype_check_threshold", 0.1);
      if (1.0 - match > threshold)
        out.push_back(violation(
            name, "data_type_check",
            "Data type match requirement is not met. Expected data type: " + type +
                ", Expected match: " + percent(1.0 - threshold) + ". Observed: Only " +
                percent(match) + " of data is " + type + "."));
    }
    if (evaluate && fc.contains("completeness") && values.size() > 0) {
      // Robust: allow the binomial 95% margin of the current sample, as Deequ's
      // RetainCompletenessRule does for the baseline side.
      const double p = fc["completeness"].get<double>();
      const double m = static_cast<double>(values.size());
      const double observed = static_cast<double>(present) / m;
      const bool robust =
          cfg["distribution_constraints"].value("comparison_method", "Robust") == "Robust";
      const double margin = robust ? 1.96 * std::sqrt(p * (1 - p) / m) : 0.0;
      if (observed < p - margin - 1e-12)
        out.push_back(violation(name, "completeness_check",
                                "Data completeness requirement is not met. Expected completeness: " +
                                    percent(p) + ". Observed: Only " + percent(observed) +
                                    " of data is non-null."));
    }
    if (evaluate && fc.contains("string_constraints") && present > 0) {
      std::set<std::string> domain;
      for (const auto& v : fc["string_constraints"].value("domains", nlohmann::json::array()))
        domain.insert(v.get<std::string>());
      size_t unknown = 0;
      for (size_t r = 0; r < values.size(); ++r)
        if (values.kinds[r] != ValueKind::kMissing && !domain.count(values.text(r))) ++unknown;
      const double share = static_cast<double>(unknown) / static_cast<double>(present);
      const double threshold = cfg.value("domain_content_threshold", 0.1);
      if (share > threshold)
        out.push_back(violation(name, "categorical_values_check",
                                "Data content requirement is not met: " + percent(share) +
                                    " of the values are outside the baseline's domain (allowed " +
                                    percent(threshold) + ")"));
    }
    const auto& dist = cfg["distribution_constraints"];
    auto it = base.find(name);
    if (dist.value("perform_comparison", "Enabled") == "Enabled" && it != base.end() &&
        type != "Unknown") {
      const FeatureStatistics& b = it->second;
      const FeatureStatistics c = profile(values, type);
      const bool numeric = is_numeric_type(type);
      const double linf = numeric ? linf_numeric(b.sketch, c.sketch)
                                  : linf_categorical(b.counts, b.num_present, c.counts, c.num_present);
      const bool robust = dist.value("comparison_method", "Robust") == "Robust";
      const double distance = robust ? linf_robust(linf, b.num_present, c.num_present) : linf;
      const double threshold =
          numeric ? dist.value("comparison_threshold", 0.1)
                  : dist.value("categorical_comparison_threshold",
                               dist.value("comparison_threshold", 0.1));
      if (distance > threshold)
        out.push_back(violation(
            name, "baseline_drift_check",
            "Baseline drift distance: " + number(distance) + " exceeds threshold: " +
                number(threshold) + " (" + (robust ? "Robust" : "Simple") + " L-infinity" +
                (robust ? ", uncorrected " + number(linf) : "") + "; n=" +
                std::to_string(b.num_present) + " baseline, m=" + std::to_string(c.num_present) +
                " current)"));
    }
  }
  for (const auto& extra : extra_columns)
    out.push_back(violation(extra, "extra_column_check",
                            "Column '" + extra + "' is not in the baseline"));
  return out;
}

}  // namespace tabpilot::monitor
