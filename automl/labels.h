// The target column as learner input: class indices (classification) or values
// (regression), and the label texts behind the class indices.
#pragma once
#include <string>
#include <vector>

#include "tabpilot/data/problem_type.h"
#include "tabpilot/data/table.h"

namespace tabpilot {

struct EncodedTarget {
  std::vector<float> y;             // per kept row: value, or class index as float
  std::vector<int> class_of_row;    // classification: class index per kept row
  std::vector<std::string> labels;  // classification: class index -> label text
  std::vector<size_t> kept_rows;    // rows of the table whose target is present
  size_t dropped = 0;               // rows dropped for a missing target
};

// Binary positive class (class index 1), the rule documented in the README:
//  1. if exactly one label reads as "true-like" — 1, true, yes, y, t, positive, pos (any
//     case), or contains "positive" — it is the positive class;
//  2. otherwise the less frequent label (ties: the one that sorts last).
// Multiclass labels are sorted (numerically when all labels are numbers).
// Throws InputError for a target with no values, a single class, or (regression) values
// that are not numeric.
EncodedTarget encode_target(const Column& target, Task task);

}  // namespace tabpilot
