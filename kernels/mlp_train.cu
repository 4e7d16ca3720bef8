// The device MLP trainer (mlp_train_cuda.h): K trials of one shape trained as one batch. The
// data goes up once; each step gathers its mini-batch on the device by index, runs
// strided-batched GEMMs over the K stacked weight sets and the batched kernels of
// mlp_batched.cu, and never waits for the host. Once per epoch the K losses come back (one
// copy) and the host decides improvement, patience and pruning exactly as trainer/mlp.cpp
// does; best weights are kept on the device. Every buffer is taken from the MemoryPool before
// the first step. The next epoch's shuffles are drawn on host threads while the GPU works.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
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
                       "; one batch supports one shape (same num_layers, width and batch_size; "
                       "grouped batches of different shapes are not supported): split the "
                       "trials by shape");
    };
    if (s.num_hidden != s0.num_hidden) mismatch("num_layers", s.num_hidden, s0.num_hidden);
    if (s.width != s0.width) mismatch("width", s.width, s0.width);
    if (s.batch_size != s0.batch_size) mismatch("batch_size", s.batch_size, s0.batch_size);
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

}  // namespace

std::vector<MlpTrialResult> train_mlp_batch_cuda(const std::vector<MlpTrialSpec>& specs,
                                                 const MlpTrainData& data,
                                                 const MlpTrainOptions& options,
                                                 MlpTrainStats* stats) {
  check_inputs(specs, data, options);
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
  std::vector<int> lin(L), lout(L);
  std::vector<size_t> w_off(L), b_off(L);
  mb::Segments segs;
  for (int l = 0; l < L; ++l) {
    lin[l] = l == 0 ? dim : width;
    lout[l] = l < hidden ? width : outputs;
    const size_t wn = static_cast<size_t>(lin[l]) * lout[l];
    w_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = wn;
    segs.decayed[segs.count++] = 1;
    segs.total += wn * K;
    b_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = lout[l];
    segs.decayed[segs.count++] = 0;
    segs.total += static_cast<size_t>(lout[l]) * K;
  }

  // ---- host-side initial state: weights, per-trial constants, first orders ----
  std::vector<float> init(segs.total, 0.0f), rates(K), scales(K), lrs(K), decays(K);
  std::vector<uint64_t> dropout_seeds(K), shuffle_seeds(K);
  for (int k = 0; k < K; ++k) {
    const MlpTrialSpec& sp = specs[k];
    for (int l = 0; l < L; ++l) {
      const auto w = mlp_initial_weights(l, lin[l], lout[l], l == hidden, mlp_init_seed(sp.seed));
      std::copy(w.begin(), w.end(), init.begin() + w_off[l] + w.size() * k);
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
    act.push_back(floats(static_cast<size_t>(bmax) * lout[l] * K));
    dact.push_back(floats(static_cast<size_t>(bmax) * lout[l] * K));
  }
  const int widest = std::max(width, outputs);
  DeviceBuffer<float> eval_a = floats(static_cast<size_t>(chunk) * widest * K);
  DeviceBuffer<float> eval_b = floats(static_cast<size_t>(chunk) * widest * K);
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
        gemm_forward(h, in, in_stride, params.data() + w_off[l], bs, lin[l], lout[l],
                     act[l].data(), stride, K);
        if (l < hidden)
          mb::bias_relu_dropout(act[l].data(), params.data() + b_off[l], K, bs, width, stride,
                                d_rates.data(), d_scales.data(), d_seeds.data(),
                                static_cast<uint64_t>(step) * 4 + l, s);
        in = act[l].data(), in_stride = stride;
      }
      mb::loss(act[hidden].data(), params.data() + b_off[hidden], yb.data(), K, bs, outputs,
               data.classification, static_cast<size_t>(bmax) * outputs, bmax,
               dact[hidden].data(), 1.0f / static_cast<float>(bs), partials.data(),
               nv == 0 ? acc.data() : nullptr, s);
      for (int l = L; l-- > 0;) {
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
      mb::adamw(params.data(), grads.data(), adam_m.data(), adam_v.data(), segs, d_lrs.data(),
                d_decays.data(), active, a, s);
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
      const size_t wn = static_cast<size_t>(lin[l]) * lout[l];
      const auto wb = host_best.begin() + w_off[l] + wn * k;
      r.w[l].assign(wb, wb + wn);
      const auto bb = host_best.begin() + b_off[l] + static_cast<size_t>(lout[l]) * k;
      r.b[l].assign(bb, bb + lout[l]);
    }
  }
  return results;
}

MlpTrialResult train_mlp_cuda(const MlpTrialSpec& spec, const MlpTrainData& data,
                              const MlpTrainOptions& options, MlpTrainStats* stats) {
  return std::move(train_mlp_batch_cuda({spec}, data, options, stats).front());
}

}  // namespace tabpilot
