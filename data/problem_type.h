// The three problem types and the rule that detects one from the target column.
#pragma once
#include <string>
#include <string_view>

#include "tabpilot/data/table.h"

namespace tabpilot {

enum class Task { kRegression, kBinary, kMulticlass };

// "Regression", "BinaryClassification", "MulticlassClassification" (Autopilot's names).
std::string_view to_string(Task task);
// Accepts "auto"-less names: regression|binary|multiclass and Autopilot's names; throws
// InputError otherwise.
Task task_from_string(std::string_view name);
inline bool is_classification(Task t) { return t != Task::kRegression; }

// The rule, documented in data/problem_type.cpp: missing targets ignored; 2 distinct values
// -> binary; non-numeric -> multiclass; numeric -> regression. Throws InputError if the
// target has no values or a single one.
Task detect_task(const Column& target);

// AutoGluon's test for integer class codes (integral, > 2 distinct values, distinct/rows <=
// 0.05 above 1000 rows else 0.1, <= 1000 distinct): true where a regression target may
// really be classes, so the job can say so.
bool looks_like_class_codes(const Column& target);

}  // namespace tabpilot
