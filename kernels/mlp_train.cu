// The device MLP trainer (mlp_train_cuda.h): K trials trained as one batch. The
// data goes up once; each step gathers its mini-batch on the device by index, runs
// strided-batched GEMMs over the K stacked weight sets and the batched kernels of
// mlp_batched.cu, and never waits for the host. Once per epoch the K losses come back (one
// copy) and the host decides improvement, patience and pruning exactly as trainer/mlp.cpp
// does; best weights are kept on the device. Every buffer is taken from the MemoryPool before
// the first step. The next epoch's shuffles are drawn on host threads while the GPU works.
// Trials of different widths (the grouped path) are sorted by width so that equal widths are
// adjacent; every per-trial block then lies at a prefix-sum offset, the GEMMs run as one
// cublasSgemmGroupedBatched over the width groups (device pointer arrays built before the
// first step) and the elementwise kernels find a trial from the width prefix sums.
#include <cublas_v2.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cublas_handle.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/memory_pool.h"
#include "tabpilot/kernels/mlp_batched_detail.h"
#include "tabpilot/kernels/mlp_train_cuda.h"

namespace tabpilot {
namespace {

namespace mb = mlp_batched;
using Clock = std::chrono::steady_clock;

constexpr int kEvalChunk = 2048;  // validation rows per pass, as on the CPU
constexpr int kMaxHidden = mb::kMaxSegments / 2 - 1;
#if CUBLAS_VER_MAJOR > 12 || (CUBLAS_VER_MAJOR == 12 && CUBLAS_VER_MINOR >= 5)
constexpr bool kHaveGroupedGemm = true;
#else
constexpr bool kHaveGroupedGemm = false;
#endif

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A stream leased from a process-wide free list (never destroyed, like the pools): repeated
// trainings on one thread reuse the same stream, hence its cached pool blocks and cuBLAS handle.
class StreamLease {
 public:
  explicit StreamLease(Device device) : ordinal_(device.ordinal) {
    std::lock_guard<std::mutex> lock(mutex());
    auto& free = lists()[ordinal_];
    if (free.empty()) {
      stream_ = new Stream(device);
    } else {
      stream_ = free.back();
      free.pop_back();
    }
  }
  ~StreamLease() {
    std::lock_guard<std::mutex> lock(mutex());
    lists()[ordinal_].push_back(stream_);
  }
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;
  StreamHandle handle() const { return stream_->handle(); }

 private:
  static std::mutex& mutex() {
    static std::mutex* m = new std::mutex;
    return *m;
  }
  static std::unordered_map<int, std::vector<Stream*>>& lists() {
    static auto* l = new std::unordered_map<int, std::vector<Stream*>>;
    return *l;
  }
  int ordinal_;
  Stream* stream_ = nullptr;
};

// Restores the handle's math mode on the way out (the stream may be the caller's).
class MathScope {
 public:
  MathScope(BlasHandle& h, BlasMath math) : h_(h), previous_(h.math()) { h.set_math(math); }
  ~MathScope() {
    try {
      h_.set_math(previous_);
    } catch (...) {
    }
  }

 private:
  BlasHandle& h_;
  BlasMath previous_;
};

void check_inputs(const std::vector<MlpTrialSpec>& specs, const MlpTrainData& d,
                  const MlpTrainOptions& o) {
  const char* fn = "train_mlp_batch_cuda: ";
  if (specs.empty()) throw InputError(std::string(fn) + "no trials given");
  const MlpTrialSpec& s0 = specs[0];
  for (size_t t = 0; t < specs.size(); ++t) {
    const MlpTrialSpec& s = specs[t];
    auto mismatch = [&](const char* what, long long a, long long b) {
      throw InputError(std::string(fn) + "trial " + std::to_string(t) + " has " + what + " " +
                       std::to_string(a) + " but trial 0 has " + std::to_string(b) +
                       "; one batch shares num_layers and batch_size (widths may differ): "
                       "split the trials by shape");
    };
    if (s.num_hidden != s0.num_hidden) mismatch("num_layers", s.num_hidden, s0.num_hidden);
    if (s.batch_size != s0.batch_size) mismatch("batch_size", s.batch_size, s0.batch_size);
    if (s.width < 1)
      throw InputError(std::string(fn) + "trial " + std::to_string(t) + " has width " +
                       std::to_string(s.width) + "; width must be >= 1");
    if (s.width != s0.width && !kHaveGroupedGemm)
      throw InputError(std::string(fn) + "trial " + std::to_string(t) + " has width " +
                       std::to_string(s.width) + " but trial 0 has " + std::to_string(s0.width) +
                       "; mixed widths need cuBLAS >= 12.5: split the trials by width");
    if (!(s.dropout >= 0.0f && s.dropout < 1.0f) || !(s.learning_rate > 0.0f) ||
        !std::isfinite(s.learning_rate) || !(s.weight_decay >= 0.0f))
      throw InputError(std::string(fn) + "trial " + std::to_string(t) +
                       ": dropout must be in [0, 1), learning_rate > 0 and weight_decay >= 0");
  }
  if (s0.num_hidden < 1 || s0.num_hidden > kMaxHidden || s0.width < 1 || s0.batch_size < 1)
    throw InputError(std::string(fn) + "num_layers must be in [1, " + std::to_string(kMaxHidden) +
                     "], width and batch_size >= 1");
  if (specs.size() > 65535) throw InputError(std::string(fn) + "at most 65535 trials per batch");
  if (d.dim < 1 || d.n_train == 0 || !d.x_train || !d.y_train)
    throw InputError(std::string(fn) + "the training set is empty");
  if (d.n_train >= (size_t{1} << 32)) throw InputError(std::string(fn) + "at most 2^32-1 rows");
  if (d.n_valid > 0 && (!d.x_valid || !d.y_valid))
    throw InputError(std::string(fn) + "n_valid > 0 but no validation data given");
  if (d.classification ? d.outputs < 2 : d.outputs != 1)
    throw InputError(std::string(fn) + "outputs must be 1 (regression) or the class count >= 2");
  if (o.max_epochs < 1 || o.patience < 1)
    throw InputError(std::string(fn) + "max_epochs and patience must be >= 1");
  auto labels = [&](const float* y, size_t n, const char* set) {
    for (size_t i = 0; i < n; ++i) {
      const float v = y[i];
      const bool ok = d.classification
                          ? v == std::floor(v) && v >= 0.0f && v < float(d.outputs)
                          : std::isfinite(v);
      if (!ok)
        throw InputError(std::string(fn) + set + " target at row " + std::to_string(i) + " is " +
                         std::to_string(v) +
                         (d.classification ? ", expected a class index" : ", not finite"));
    }
  };
  labels(d.y_train, d.n_train, "training");
  labels(d.y_valid, d.n_valid, "validation");
}

// Strided-batched GEMMs on row-major buffers (passed to cuBLAS as column-major transposes),
// K trials at once. y[n, out] = x[n, in] w[out, in]^T.
void gemm_forward(cublasHandle_t h, const float* x, long long x_stride, const float* w, int n,
                  int in, int out, float* y, long long y_stride, int k) {
  const float one = 1.0f, zero = 0.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one,
                                                  w, in, static_cast<long long>(out) * in, x, in,
                                                  x_stride, &zero, y, out, y_stride, k));
}
// dw[out, in] = dy[n, out]^T x[n, in].
void gemm_weight_grad(cublasHandle_t h, const float* x, long long x_stride, const float* dy,
                      long long dy_stride, float* dw, int n, int in, int out, int k) {
  const float one = 1.0f, zero = 0.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one,
                                                  x, in, x_stride, dy, out, dy_stride, &zero, dw,
                                                  in, static_cast<long long>(out) * in, k));
}
// dx[n, in] = dy[n, out] w[out, in].
void gemm_input_grad(cublasHandle_t h, const float* w, const float* dy, long long dy_stride,
                     float* dx, long long dx_stride, int n, int in, int out, int k) {
  const float one = 1.0f, zero = 0.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one,
                                                  w, in, static_cast<long long>(out) * in, dy,
                                                  out, dy_stride, &zero, dx, in, dx_stride, k));
}

// db[out] = column sums of dy[n, out]: dy read as column-major [out, n] times ones[n]. cuBLAS
// sums in a fixed order, so it is deterministic run to run.
void bias_grad(cublasHandle_t h, const float* dy, long long dy_stride, const float* ones,
               long long ones_stride, float* db, int n, int out, int k) {
  const float one = 1.0f, zero = 0.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemvStridedBatched(h, CUBLAS_OP_N, out, n, &one, dy, out,
                                                  dy_stride, ones, 1, ones_stride, &zero, db, 1,
                                                  out, k));
}

// Trials [first, first + count) share `width` (the grouped path sorts trials by width).
struct WidthGroup {
  int first, count, width;
};

// One cublasSgemmGroupedBatched over the width groups: dims(width) gives a group's m, n, k,
// lda, ldb, ldc; trial k's matrices are ptrs[a + k], ptrs[b + k], ptrs[c + k] (device arrays).
template <typename Dims>
void gemm_grouped(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                  const std::vector<WidthGroup>& groups, float* const* ptrs, size_t a, size_t b,
                  size_t c, Dims dims) {
#if CUBLAS_VER_MAJOR > 12 || (CUBLAS_VER_MAJOR == 12 && CUBLAS_VER_MINOR >= 5)
  const size_t g_count = groups.size();
  std::vector<cublasOperation_t> tas(g_count, ta), tbs(g_count, tb);
  std::vector<int> m(g_count), n(g_count), k(g_count), lda(g_count), ldb(g_count), ldc(g_count);
  std::vector<int> size(g_count);
  std::vector<float> alpha(g_count, 1.0f), beta(g_count, 0.0f);
  for (size_t g = 0; g < g_count; ++g) {
    const std::array<int, 6> d = dims(groups[g].width);
    m[g] = d[0], n[g] = d[1], k[g] = d[2], lda[g] = d[3], ldb[g] = d[4], ldc[g] = d[5];
    size[g] = groups[g].count;
  }
  TABPILOT_CUBLAS_CHECK(cublasSgemmGroupedBatched(
      h, tas.data(), tbs.data(), m.data(), n.data(), k.data(), alpha.data(), ptrs + a,
      lda.data(), ptrs + b, ldb.data(), beta.data(), ptrs + c, ldc.data(),
      static_cast<int>(g_count), size.data()));
#else
  (void)h, (void)ta, (void)tb, (void)groups, (void)ptrs, (void)a, (void)b, (void)c, (void)dims;
  throw InputError("train_mlp_batch_cuda: mixed widths need cuBLAS >= 12.5");
#endif
}

// Advances the live trials' orders by one epoch's shuffle, on up to 16 host threads.
void shuffle_orders(std::vector<uint32_t>& orders, size_t n, const std::vector<uint64_t>& seeds,
                    const std::vector<char>& live, int epoch) {
  std::vector<size_t> todo;
  for (size_t k = 0; k < seeds.size(); ++k)
    if (live[k]) todo.push_back(k);
  auto run = [&](size_t first, size_t step) {
    for (size_t i = first; i < todo.size(); i += step) {
      const size_t k = todo[i];
      mlp_shuffle(orders.data() + k * n, n, mix_hash(seeds[k], static_cast<uint64_t>(epoch)));
    }
  };
  const size_t threads = std::min<size_t>(
      {todo.size(), std::max(1u, std::thread::hardware_concurrency()), size_t{16}});
  if (threads <= 1 || todo.size() * n < (size_t{1} << 18)) return run(0, 1);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t, threads);
  run(0, threads);
  for (auto& th : pool) th.join();
}

// The batch proper, on checked inputs. Trials of different widths must come sorted by width.
std::vector<MlpTrialResult> train_batch(const std::vector<MlpTrialSpec>& specs,
                                        const MlpTrainData& data, const MlpTrainOptions& options,
                                        MlpTrainStats* stats) {
  const auto t_setup = Clock::now();
  const Device dev = Device::cuda(options.device);
  ScopedDevice on_device(dev);
  std::unique_ptr<StreamLease> lease;
  StreamHandle s = options.stream;
  if (!s) {
    lease = std::make_unique<StreamLease>(dev);
    s = lease->handle();
  }
  BlasHandle& blas = BlasHandle::get(dev, s);
  MathScope math(blas, options.tf32 ? BlasMath::kTf32 : BlasMath::kFp32);
  cublasHandle_t h = blas.raw();
  MemoryPool& pool = MemoryPool::for_device(dev);
  const size_t in_use_before = pool.stats().bytes_in_use;

  // ---- shapes and the flat parameter layout ----
  const int K = static_cast<int>(specs.size());
  const int hidden = specs[0].num_hidden, width = specs[0].width, dim = data.dim;
  const int outputs = data.outputs, L = hidden + 1;
  const size_t n = data.n_train, nv = data.n_valid;
  const int bmax = static_cast<int>(std::min<size_t>(specs[0].batch_size, n));
  const int chunk = static_cast<int>(std::min<size_t>(kEvalChunk, std::max<size_t>(nv, 1)));
  // Per-trial sizes and their prefix sums: trial k's weights of layer l start at
  // w_off[l] + wpre[l][k], its outputs (activations, biases) at opre[l][k] units in.
  std::vector<int> widths(K), hprefix(K + 1, 0);
  std::vector<WidthGroup> groups;
  for (int k = 0; k < K; ++k) {
    widths[k] = specs[k].width;
    hprefix[k + 1] = hprefix[k] + widths[k];
    if (groups.empty() || groups.back().width != widths[k]) groups.push_back({k, 0, widths[k]});
    ++groups.back().count;
  }
  const bool grouped = groups.size() > 1;
  auto in_of = [&](int l, int k) { return l == 0 ? dim : widths[k]; };
  auto out_of = [&](int l, int k) { return l < hidden ? widths[k] : outputs; };
  std::vector<std::vector<size_t>> wpre(L, std::vector<size_t>(K + 1, 0)), opre = wpre;
  size_t widest_layer = 0;  // the most output units of one layer over all trials
  for (int l = 0; l < L; ++l) {
    for (int k = 0; k < K; ++k) {
      wpre[l][k + 1] = wpre[l][k] + static_cast<size_t>(in_of(l, k)) * out_of(l, k);
      opre[l][k + 1] = opre[l][k] + static_cast<size_t>(out_of(l, k));
    }
    widest_layer = std::max(widest_layer, opre[l][K]);
  }
  std::vector<int> lin(L), lout(L);  // the shapes of the equal-shape path
  std::vector<size_t> w_off(L), b_off(L);
  mb::Segments segs;
  for (int l = 0; l < L; ++l) {
    lin[l] = l == 0 ? dim : width;
    lout[l] = l < hidden ? width : outputs;
    w_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = wpre[l][1];
    segs.decayed[segs.count++] = 1;
    segs.total += wpre[l][K];
    b_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = opre[l][1];
    segs.decayed[segs.count++] = 0;
    segs.total += opre[l][K];
  }

  // ---- host-side initial state: weights, per-trial constants, first orders ----
  std::vector<float> init(segs.total, 0.0f), rates(K), scales(K), lrs(K), decays(K);
  std::vector<uint64_t> dropout_seeds(K), shuffle_seeds(K);
  for (int k = 0; k < K; ++k) {
    const MlpTrialSpec& sp = specs[k];
    for (int l = 0; l < L; ++l) {
      const auto w =
          mlp_initial_weights(l, in_of(l, k), out_of(l, k), l == hidden, mlp_init_seed(sp.seed));
      std::copy(w.begin(), w.end(), init.begin() + w_off[l] + wpre[l][k]);
    }
    rates[k] = sp.dropout;
    scales[k] = sp.dropout > 0.0f ? 1.0f / (1.0f - sp.dropout) : 1.0f;
    lrs[k] = sp.learning_rate;
    decays[k] = 1.0f - sp.learning_rate * sp.weight_decay;  // as adamw_step_cpu
    dropout_seeds[k] = mlp_dropout_seed(sp.seed);
    shuffle_seeds[k] = mlp_shuffle_seed(sp.seed);
  }
  std::vector<uint32_t> orders(static_cast<size_t>(K) * n);
  for (int k = 0; k < K; ++k)
    for (size_t i = 0; i < n; ++i) orders[k * n + i] = static_cast<uint32_t>(i);
  std::vector<char> live(K, 1);
  shuffle_orders(orders, n, shuffle_seeds, live, 1);

  // ---- every device buffer, before the first step ----
  auto floats = [&](size_t count) { return DeviceBuffer<float>(count, pool, s); };
  DeviceBuffer<float> x_tr = floats(n * dim), y_tr = floats(n);
  DeviceBuffer<float> x_va = floats(nv * dim), y_va = floats(nv);
  x_tr.upload(data.x_train, n * dim);
  y_tr.upload(data.y_train, n);
  if (nv > 0) x_va.upload(data.x_valid, nv * dim), y_va.upload(data.y_valid, nv);
  DeviceBuffer<uint32_t> order_dev(orders.size(), pool, s);
  const size_t xb_stride = static_cast<size_t>(bmax) * dim;
  DeviceBuffer<float> xb = floats(xb_stride * K), yb = floats(static_cast<size_t>(bmax) * K);
  std::vector<DeviceBuffer<float>> act, dact;
  for (int l = 0; l < L; ++l) {
    act.push_back(floats(static_cast<size_t>(bmax) * opre[l][K]));
    dact.push_back(floats(static_cast<size_t>(bmax) * opre[l][K]));
  }
  DeviceBuffer<float> eval_a = floats(static_cast<size_t>(chunk) * widest_layer);
  DeviceBuffer<float> eval_b = floats(static_cast<size_t>(chunk) * widest_layer);
  DeviceBuffer<float> params = floats(segs.total), grads = floats(segs.total);
  DeviceBuffer<float> adam_m = floats(segs.total), adam_v = floats(segs.total);
  DeviceBuffer<float> best = floats(segs.total);
  DeviceBuffer<float> d_rates = floats(K), d_scales = floats(K), d_lrs = floats(K);
  DeviceBuffer<float> d_decays = floats(K);
  DeviceBuffer<uint64_t> d_seeds(K, pool, s);
  DeviceBuffer<int> flags(2 * static_cast<size_t>(K), pool, s);  // improved[K], active[K]
  DeviceBuffer<double> partials(static_cast<size_t>(K) * mb::kMaxLossBlocks, pool, s);
  DeviceBuffer<double> acc(K, pool, s);
  DeviceBuffer<float> ones = floats(static_cast<size_t>(bmax) * K);
  params.upload(init.data(), init.size());
  ones.upload(std::vector<float>(ones.size(), 1.0f).data(), ones.size());
  copy_device_async(best.data(), params.data(), params.bytes(), s);
  adam_m.fill_zero();
  adam_v.fill_zero();
  d_rates.upload(rates.data(), K);
  d_scales.upload(scales.data(), K);
  d_lrs.upload(lrs.data(), K);
  d_decays.upload(decays.data(), K);
  d_seeds.upload(dropout_seeds.data(), K);
  std::vector<int> host_flags(2 * static_cast<size_t>(K), 0);
  std::fill(host_flags.begin() + K, host_flags.end(), 1);
  flags.upload(host_flags.data(), host_flags.size());
  order_dev.upload(orders.data(), orders.size());

  // ---- the grouped path's tables: segment blocks, width prefix sums, GEMM pointer arrays ----
  DeviceBuffer<size_t> seg_start;
  DeviceBuffer<int> seg_trial, seg_decayed, d_hprefix;
  DeviceBuffer<float*> gemm_ptrs;
  mb::SegmentTable table;
  struct Triple {
    size_t a = 0, b = 0, c = 0;
  };
  std::vector<Triple> fwd(L), wgrad(L), igrad(L), eval(L);
  size_t eval0_b = 0;  // layer 0 of evaluation reads chunk c's rows: ptrs[eval0_b + c * K + k]
  if (grouped) {
    std::vector<size_t> starts;
    std::vector<int> trial_of, decayed_of;
    for (int l = 0; l < L; ++l)
      for (int part = 0; part < 2; ++part)
        for (int k = 0; k < K; ++k) {
          starts.push_back(part == 0 ? w_off[l] + wpre[l][k] : b_off[l] + opre[l][k]);
          trial_of.push_back(k);
          decayed_of.push_back(part == 0);
        }
    starts.push_back(segs.total);
    seg_start = DeviceBuffer<size_t>(starts.size(), pool, s);
    seg_trial = DeviceBuffer<int>(trial_of.size(), pool, s);
    seg_decayed = DeviceBuffer<int>(decayed_of.size(), pool, s);
    d_hprefix = DeviceBuffer<int>(hprefix.size(), pool, s);
    seg_start.upload(starts.data(), starts.size());
    seg_trial.upload(trial_of.data(), trial_of.size());
    seg_decayed.upload(decayed_of.data(), decayed_of.size());
    d_hprefix.upload(hprefix.data(), hprefix.size());
    table.count = static_cast<int>(trial_of.size());
    table.total = segs.total;
    table.start = seg_start.data(), table.trial = seg_trial.data();
    table.decayed = seg_decayed.data();

    std::vector<float*> ptrs;
    auto put = [&](auto at) {  // appends K pointers, at(k), and returns where they start
      const size_t first = ptrs.size();
      for (int k = 0; k < K; ++k) ptrs.push_back(const_cast<float*>(at(k)));
      return first;
    };
    auto weights = [&](float* base, int l) {
      return [&, base, l](int k) { return base + w_off[l] + wpre[l][k]; };
    };
    auto rows_at = [&](float* base, size_t rows, int l) {
      return [&, base, rows, l](int k) { return base + rows * opre[l][k]; };
    };
    auto x_at = [&](int k) { return xb.data() + static_cast<size_t>(k) * xb_stride; };
    for (int l = 0; l < L; ++l) {
      fwd[l].a = put(weights(params.data(), l));
      fwd[l].b = l == 0 ? put(x_at) : put(rows_at(act[l - 1].data(), bmax, l - 1));
      fwd[l].c = put(rows_at(act[l].data(), bmax, l));
      wgrad[l].a = fwd[l].b;
      wgrad[l].b = put(rows_at(dact[l].data(), bmax, l));
      wgrad[l].c = put(weights(grads.data(), l));
      if (l > 0) {
        igrad[l].a = fwd[l].a, igrad[l].b = wgrad[l].b;
        igrad[l].c = put(rows_at(dact[l - 1].data(), bmax, l - 1));
      }
      if (nv > 0) {
        float* out = l % 2 == 0 ? eval_a.data() : eval_b.data();
        float* prev = l % 2 == 0 ? eval_b.data() : eval_a.data();
        eval[l].a = fwd[l].a;
        if (l > 0) eval[l].b = put(rows_at(prev, chunk, l - 1));
        eval[l].c = put(rows_at(out, chunk, l));
      }
    }
    eval0_b = ptrs.size();
    for (size_t begin = 0; begin < nv; begin += chunk)
      put([&](int) { return x_va.data() + begin * dim; });
    gemm_ptrs = DeviceBuffer<float*>(ptrs.size(), pool, s);
    gemm_ptrs.upload(ptrs.data(), ptrs.size());
  }
  float* const* P = gemm_ptrs.data();
  // Group dims (m, n, k, lda, ldb, ldc) of layer l's three GEMMs for `rows` rows.
  auto fwd_dims = [&](int l, int rows) {
    return [=](int w) {
      const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
      return std::array<int, 6>{out, rows, in, in, in, out};
    };
  };
  auto wgrad_dims = [&](int l, int rows) {
    return [=](int w) {
      const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
      return std::array<int, 6>{in, out, rows, in, out, in};
    };
  };
  auto igrad_dims = [&](int l, int rows) {
    return [=](int w) {
      const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
      return std::array<int, 6>{in, rows, out, in, out, in};
    };
  };
  const size_t mallocs_ready = pool.stats().cuda_malloc_calls;
  if (stats) {
    *stats = MlpTrainStats{};
    stats->pool_bytes = pool.stats().bytes_in_use - in_use_before;
    stats->setup_seconds = seconds_since(t_setup);
  }

  // ---- the epochs ----
  std::vector<MlpTrialResult> results(K);
  for (auto& r : results) r.best_loss = std::numeric_limits<double>::infinity(), r.stopped = "";
  std::vector<int> since_best(K, 0);
  std::vector<double> host_acc(K);
  const int* improved = flags.data();
  const int* active = flags.data() + K;
  const AdamConfig adam;  // beta1, beta2, eps: the defaults the CPU trainer uses too
  const float b1 = adam.beta1, b2 = adam.beta2;
  int step = 0;
  for (int epoch = 1; epoch <= options.max_epochs; ++epoch) {
    const auto t_epoch = Clock::now();
    // The next epoch's orders are drawn on the host while the GPU works through this one.
    std::future<void> next_orders;
    if (epoch < options.max_epochs)
      next_orders = std::async(std::launch::async, [&orders, n, &shuffle_seeds, live, epoch] {
        shuffle_orders(orders, n, shuffle_seeds, live, epoch + 1);
      });
    if (nv == 0) acc.fill_zero();
    for (size_t begin = 0; begin < n; begin += bmax) {
      const int bs = static_cast<int>(std::min<size_t>(bmax, n - begin));
      ++step;
      mb::gather(x_tr.data(), y_tr.data(), order_dev.data(), n, begin, bs, dim, K, xb_stride,
                 bmax, xb.data(), yb.data(), s);
      const float* in = xb.data();
      long long in_stride = static_cast<long long>(xb_stride);
      for (int l = 0; l < L; ++l) {
        const long long stride = static_cast<long long>(bmax) * lout[l];
        const uint64_t counter = static_cast<uint64_t>(step) * 4 + l;
        if (grouped) {
          gemm_grouped(h, CUBLAS_OP_T, CUBLAS_OP_N, groups, P, fwd[l].a, fwd[l].b, fwd[l].c,
                       fwd_dims(l, bs));
          if (l < hidden)
            mb::bias_relu_dropout_grouped(act[l].data(), params.data() + b_off[l], K, bs, bmax,
                                          d_hprefix.data(), hprefix[K], d_rates.data(),
                                          d_scales.data(), d_seeds.data(), counter, s);
          continue;
        }
        gemm_forward(h, in, in_stride, params.data() + w_off[l], bs, lin[l], lout[l],
                     act[l].data(), stride, K);
        if (l < hidden)
          mb::bias_relu_dropout(act[l].data(), params.data() + b_off[l], K, bs, width, stride,
                                d_rates.data(), d_scales.data(), d_seeds.data(), counter, s);
        in = act[l].data(), in_stride = stride;
      }
      mb::loss(act[hidden].data(), params.data() + b_off[hidden], yb.data(), K, bs, outputs,
               data.classification, static_cast<size_t>(bmax) * outputs, bmax,
               dact[hidden].data(), 1.0f / static_cast<float>(bs), partials.data(),
               nv == 0 ? acc.data() : nullptr, s);
      for (int l = L; l-- > 0 && grouped;) {
        gemm_grouped(h, CUBLAS_OP_N, CUBLAS_OP_T, groups, P, wgrad[l].a, wgrad[l].b, wgrad[l].c,
                     wgrad_dims(l, bs));
        for (const WidthGroup& g : groups) {  // cuBLAS has no grouped GEMV: one per width
          const int out = out_of(l, g.first);
          bias_grad(h, dact[l].data() + bmax * opre[l][g.first],
                    static_cast<long long>(bmax) * out, ones.data(), bmax,
                    grads.data() + b_off[l] + opre[l][g.first], bs, out, g.count);
        }
        if (l > 0) {
          gemm_grouped(h, CUBLAS_OP_N, CUBLAS_OP_N, groups, P, igrad[l].a, igrad[l].b,
                       igrad[l].c, igrad_dims(l, bs));
          mb::relu_dropout_backward_grouped(act[l - 1].data(), dact[l - 1].data(), K, bs, bmax,
                                            d_hprefix.data(), hprefix[K], d_scales.data(), s);
        }
      }
      for (int l = L; l-- > 0 && !grouped;) {
        const long long stride = static_cast<long long>(bmax) * lout[l];
        const float* x_in = l == 0 ? xb.data() : act[l - 1].data();
        const long long x_stride = l == 0 ? static_cast<long long>(xb_stride)
                                          : static_cast<long long>(bmax) * lout[l - 1];
        gemm_weight_grad(h, x_in, x_stride, dact[l].data(), stride, grads.data() + w_off[l], bs,
                         lin[l], lout[l], K);
        bias_grad(h, dact[l].data(), stride, ones.data(), bmax, grads.data() + b_off[l], bs,
                  lout[l], K);
        if (l > 0) {
          gemm_input_grad(h, params.data() + w_off[l], dact[l].data(), stride,
                          dact[l - 1].data(), x_stride, bs, lin[l], lout[l], K);
          mb::relu_dropout_backward(act[l - 1].data(), dact[l - 1].data(), K, bs, width,
                                    x_stride, d_scales.data(), s);
        }
      }
      // Bias corrections in double on the host, as adamw_step_cpu computes them.
      const mb::AdamScalars a{b1,
                              b2,
                              1.0f - b1,
                              1.0f - b2,
                              static_cast<float>(1.0 - std::pow(static_cast<double>(b1), step)),
                              static_cast<float>(1.0 - std::pow(static_cast<double>(b2), step)),
                              adam.eps};
      if (grouped)
        mb::adamw_grouped(params.data(), grads.data(), adam_m.data(), adam_v.data(), table,
                          d_lrs.data(), d_decays.data(), active, a, s);
      else
        mb::adamw(params.data(), grads.data(), adam_m.data(), adam_v.data(), segs,
                  d_lrs.data(), d_decays.data(), active, a, s);
    }
    if (nv > 0) {
      acc.fill_zero();
      for (size_t begin = 0; begin < nv; begin += chunk) {
        const int cn = static_cast<int>(std::min<size_t>(chunk, nv - begin));
        const float* in = x_va.data() + begin * dim;
        long long in_stride = 0;  // every trial reads the same validation rows
        for (int l = 0; l < L; ++l) {
          float* out = l % 2 == 0 ? eval_a.data() : eval_b.data();
          const long long stride = static_cast<long long>(chunk) * lout[l];
          if (grouped) {
            const size_t b = l == 0 ? eval0_b + (begin / chunk) * K : eval[l].b;
            gemm_grouped(h, CUBLAS_OP_T, CUBLAS_OP_N, groups, P, eval[l].a, b, eval[l].c,
                         fwd_dims(l, cn));
            if (l < hidden)
              mb::bias_relu_dropout_grouped(out, params.data() + b_off[l], K, cn, chunk,
                                            d_hprefix.data(), hprefix[K], nullptr, nullptr,
                                            nullptr, 0, s);
            in = out;
            continue;
          }
          gemm_forward(h, in, in_stride, params.data() + w_off[l], cn, lin[l], lout[l], out,
                       stride, K);
          if (l < hidden)
            mb::bias_relu_dropout(out, params.data() + b_off[l], K, cn, width, stride, nullptr,
                                  nullptr, nullptr, 0, s);
          in = out, in_stride = stride;
        }
        mb::loss(in, params.data() + b_off[hidden], y_va.data() + begin, K, cn, outputs,
                 data.classification, static_cast<size_t>(chunk) * outputs, 0, nullptr, 0.0f,
                 partials.data(), acc.data(), s);
      }
    }
    acc.download(host_acc.data(), K);
    if (next_orders.valid()) next_orders.get();

    // Improvement, reports, patience and stop: trainer/mlp.cpp's order, per live trial.
    std::fill(host_flags.begin(), host_flags.begin() + K, 0);
    const bool stop_all = options.should_stop && options.should_stop();
    for (int k = 0; k < K; ++k) {
      if (!live[k]) continue;
      MlpTrialResult& r = results[k];
      const double loss = host_acc[k] / static_cast<double>(nv > 0 ? nv : n) * options.loss_scale;
      r.epochs = epoch;
      r.losses.push_back(loss);
      if (!std::isfinite(loss)) {
        r.stopped = "non_finite_loss", r.failed = true, live[k] = 0;
        continue;
      }
      if (nv == 0 || loss < r.best_loss) {
        r.best_loss = loss, r.best_epoch = epoch, since_best[k] = 0;
        host_flags[k] = 1;
      } else {
        ++since_best[k];
      }
      std::string reason = options.on_epoch ? options.on_epoch(k, epoch, loss) : std::string();
      if (reason.empty() && nv > 0 && since_best[k] >= options.patience) reason = "early_stopping";
      if (reason.empty() && stop_all) reason = "stop_token";
      if (!reason.empty()) r.stopped = reason, live[k] = 0;
    }
    for (int k = 0; k < K; ++k) host_flags[K + k] = live[k];
    flags.upload(host_flags.data(), host_flags.size());
    if (grouped)
      mb::copy_masked_grouped(params.data(), best.data(), table, improved, s);
    else
      mb::copy_masked(params.data(), best.data(), segs, improved, s);
    if (stats) stats->epoch_seconds.push_back(seconds_since(t_epoch));
    if (std::none_of(live.begin(), live.end(), [](char c) { return c != 0; })) break;
    order_dev.upload(orders.data(), orders.size());
  }
  if (stats) stats->cuda_mallocs_in_loop = pool.stats().cuda_malloc_calls - mallocs_ready;

  // ---- best weights back to the host ----
  const std::vector<float> host_best = best.to_host();
  for (int k = 0; k < K; ++k) {
    MlpTrialResult& r = results[k];
    if (r.stopped.empty()) r.stopped = "max_epochs";
    r.w.resize(L), r.b.resize(L);
    for (int l = 0; l < L; ++l) {
      const auto wb = host_best.begin() + w_off[l] + wpre[l][k];
      r.w[l].assign(wb, wb + (wpre[l][k + 1] - wpre[l][k]));
      const auto bb = host_best.begin() + b_off[l] + opre[l][k];
      r.b[l].assign(bb, bb + (opre[l][k + 1] - opre[l][k]));
    }
  }
  return results;
}

}  // namespace

std::vector<MlpTrialResult> train_mlp_batch_cuda(const std::vector<MlpTrialSpec>& specs,
                                                 const MlpTrainData& data,
                                                 const MlpTrainOptions& options,
                                                 MlpTrainStats* stats) {
  check_inputs(specs, data, options);
  const size_t K = specs.size();
  const bool mixed = std::any_of(specs.begin(), specs.end(),
                                 [&](const MlpTrialSpec& s) { return s.width != specs[0].width; });
  if (!mixed) return train_batch(specs, data, options, stats);
  // Sorted by width (stably), so that each width group is one contiguous run of trials.
  std::vector<int> perm(K);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int a, int b) { return specs[a].width < specs[b].width; });
  std::vector<MlpTrialSpec> sorted;
  for (int p : perm) sorted.push_back(specs[p]);
  MlpTrainOptions o = options;
  if (options.on_epoch)
    o.on_epoch = [&options, &perm](int trial, int epoch, double loss) {
      return options.on_epoch(perm[trial], epoch, loss);
    };
  std::vector<MlpTrialResult> by_width = train_batch(sorted, data, o, stats);
  std::vector<MlpTrialResult> results(K);
  for (size_t i = 0; i < K; ++i) results[perm[i]] = std::move(by_width[i]);
  return results;
}

MlpTrialResult train_mlp_cuda(const MlpTrialSpec& spec, const MlpTrainData& data,
                              const MlpTrainOptions& options, MlpTrainStats* stats) {
  return std::move(train_mlp_batch_cuda({spec}, data, options, stats).front());
}

}  // namespace tabpilot
