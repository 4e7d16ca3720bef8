// The fitted state of the "mlp" learner (input standardization, target scaling, dense layers),
// its inference pass and its byte format. Training lives in mlp.cpp; this part is shared by
// fit (validation passes), predict and deserialize, and is what a GPU path must reproduce.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/data/problem_type.h"
#include "tabpilot/kernels/matrix.h"
#include "tabpilot/kernels/mlp_ops.h"

namespace tabpilot::mlp {

struct DenseLayer {
  int in = 0, out = 0;
  std::vector<float> w;  // [out, in]
  std::vector<float> b;  // [out]
};

struct MlpModel {
  Task task = Task::kRegression;
  int num_classes = 1;
  int dim = 0;
  std::vector<float> x_mean, x_scale;   // standardized input = (x - mean) * scale; NaN -> 0
  float y_mean = 0.0f, y_scale = 1.0f;  // regression: prediction = y_mean + y_scale * output
  std::vector<DenseLayer> layers;       // hidden layers (ReLU) then the linear output layer

  int outputs() const { return layers.empty() ? 0 : layers.back().out; }
  int widest() const {
    int w = 0;
    for (const auto& l : layers) w = std::max(w, l.out);
    return w;
  }
};

// Standardized copy of rows [begin, begin + n) of x into out[n, dim].
inline void standardize_rows(const MlpModel& m, MatrixView x, size_t begin, size_t n, float* out) {
  for (size_t r = 0; r < n; ++r) {
    const float* row = x.row(begin + r);
    float* o = out + r * m.dim;
    for (int c = 0; c < m.dim; ++c)
      o[c] = std::isnan(row[c]) ? 0.0f : (row[c] - m.x_mean[c]) * m.x_scale[c];
  }
}

// Inference pass (no dropout) over n standardized rows; raw outputs land in out[n, outputs].
// buf_a and buf_b are scratch of at least n * widest() floats each.
inline void forward_eval(const MlpModel& m, const float* xs, int n, float* buf_a, float* buf_b,
                         float* out) {
  const float* in = xs;
  float* bufs[2] = {buf_a, buf_b};
  const size_t hidden = m.layers.size() - 1;
  for (size_t l = 0; l < hidden; ++l) {
    const DenseLayer& L = m.layers[l];
    float* h = bufs[l % 2];
    dense_forward_cpu(in, L.w.data(), nullptr, h, n, L.in, L.out);
    bias_relu_dropout_cpu(h, L.b.data(), n, L.out, 0.0f, 0);
    in = h;
  }
  const DenseLayer& o = m.layers.back();
  dense_forward_cpu(in, o.w.data(), o.b.data(), out, n, o.in, o.out);
}

// Turns raw outputs into what Learner::predict returns: probabilities or target units.
inline void finish_outputs(const MlpModel& m, const float* raw, int n, float* dst) {
  if (m.task == Task::kRegression) {
    for (int r = 0; r < n; ++r) dst[r] = m.y_mean + m.y_scale * raw[r];
    return;
  }
  const int k = m.outputs();
  for (int r = 0; r < n; ++r) {
    const float* z = raw + static_cast<size_t>(r) * k;
    float* p = dst + static_cast<size_t>(r) * k;
    const float zmax = *std::max_element(z, z + k);
    float sum = 0.0f;
    for (int c = 0; c < k; ++c) sum += (p[c] = std::exp(z[c] - zmax));
    for (int c = 0; c < k; ++c) p[c] /= sum;
  }
}

// Byte format, host (little-endian) order: "TPMP", u32 version, task, num_classes, dim,
// layer count, (in, out) per layer; then f32 x_mean[dim], x_scale[dim], y_mean, y_scale and
// each layer's w then b.
constexpr char kMagic[4] = {'T', 'P', 'M', 'P'};
constexpr uint32_t kFormatVersion = 1;

inline std::vector<uint8_t> serialize_model(const MlpModel& m) {
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  auto put = [&out](const void* p, size_t bytes) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + bytes);
  };
  auto u32 = [&put](uint32_t v) { put(&v, 4); };
  u32(kFormatVersion);
  u32(static_cast<uint32_t>(m.task));
  u32(static_cast<uint32_t>(m.num_classes));
  u32(static_cast<uint32_t>(m.dim));
  u32(static_cast<uint32_t>(m.layers.size()));
  for (const auto& l : m.layers)
    u32(static_cast<uint32_t>(l.in)), u32(static_cast<uint32_t>(l.out));
  put(m.x_mean.data(), m.x_mean.size() * 4);
  put(m.x_scale.data(), m.x_scale.size() * 4);
  put(&m.y_mean, 4);
  put(&m.y_scale, 4);
  for (const auto& l : m.layers) put(l.w.data(), l.w.size() * 4), put(l.b.data(), l.b.size() * 4);
  return out;
}

inline MlpModel deserialize_model(const std::vector<uint8_t>& bytes) {
  size_t pos = 0;
  auto take = [&](void* dst, size_t n) {
    if (bytes.size() - pos < n)
      throw InputError("mlp: model bytes are truncated; re-export the model");
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  };
  auto u32 = [&]() {
    uint32_t v;
    take(&v, 4);
    return v;
  };
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw InputError("mlp: model bytes are not a tabpilot MLP model (bad header)");
  pos = 4;
  const uint32_t version = u32();
  if (version != kFormatVersion)
    throw InputError("mlp: model format version " + std::to_string(version) +
                     " is not supported (expected " + std::to_string(kFormatVersion) +
                     "); retrain the model with this tabpilot");
  MlpModel m;
  const uint32_t task = u32(), classes = u32(), dim = u32(), count = u32();
  const char* corrupt = "mlp: model header is corrupt; re-export the model";
  if (task > static_cast<uint32_t>(Task::kMulticlass) || dim == 0 || dim > (1u << 24) ||
      count == 0 || count > 64 || classes == 0 || classes > (1u << 16))
    throw InputError(corrupt);
  m.task = static_cast<Task>(task);
  m.num_classes = static_cast<int>(classes);
  m.dim = static_cast<int>(dim);
  m.layers.resize(count);
  int prev = m.dim;
  for (auto& l : m.layers) {
    l.in = static_cast<int>(u32());
    l.out = static_cast<int>(u32());
    if (l.in != prev || l.out <= 0 || l.out > (1 << 16)) throw InputError(corrupt);
    prev = l.out;
  }
  if (m.outputs() != (m.task == Task::kRegression ? 1 : m.num_classes)) throw InputError(corrupt);
  m.x_mean.resize(m.dim);
  m.x_scale.resize(m.dim);
  take(m.x_mean.data(), m.dim * 4);
  take(m.x_scale.data(), m.dim * 4);
  take(&m.y_mean, 4);
  take(&m.y_scale, 4);
  for (auto& l : m.layers) {
    l.w.resize(static_cast<size_t>(l.in) * l.out);
    l.b.resize(l.out);
    take(l.w.data(), l.w.size() * 4);
    take(l.b.data(), l.b.size() * 4);
  }
  if (pos != bytes.size()) throw InputError("mlp: model bytes are padded; re-export the model");
  return m;
}

}  // namespace tabpilot::mlp
