// Dense float32 matrices: what transforms produce and learners consume. Row-major.
// Matrix owns host memory; MatrixView is the non-owning (rows, cols, stride, device) view.
#pragma once
#include <cstddef>
#include <vector>

#include "tabpilot/cuda/device.h"

namespace tabpilot {

struct MatrixView {
  const float* data = nullptr;
  size_t rows = 0, cols = 0, stride = 0;  // stride in floats between rows
  Device device;
  const float* row(size_t r) const { return data + r * stride; }
  float at(size_t r, size_t c) const { return data[r * stride + c]; }
};

class Matrix {
 public:
  Matrix() = default;
  Matrix(size_t rows, size_t cols, float fill = 0.0f)
      : rows_(rows), cols_(cols), data_(rows * cols, fill) {}
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float* row(size_t r) { return data_.data() + r * cols_; }
  const float* row(size_t r) const { return data_.data() + r * cols_; }
  float& at(size_t r, size_t c) { return data_[r * cols_ + c]; }
  float at(size_t r, size_t c) const { return data_[r * cols_ + c]; }
  MatrixView view() const { return {data_.data(), rows_, cols_, cols_, Device::cpu()}; }
  // Rows [begin, end) as a view without copying.
  MatrixView rows_view(size_t begin, size_t end) const {
    return {data_.data() + begin * cols_, end - begin, cols_, cols_, Device::cpu()};
  }
  // A copy holding the given rows, in that order.
  Matrix take_rows(const std::vector<size_t>& rows) const;

 private:
  size_t rows_ = 0, cols_ = 0;
  std::vector<float> data_;
};

inline Matrix Matrix::take_rows(const std::vector<size_t>& rows) const {
  Matrix out(rows.size(), cols_);
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* src = row(rows[i]);
    std::copy(src, src + cols_, out.row(i));
  }
  return out;
}

}  // namespace tabpilot
