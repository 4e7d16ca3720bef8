// The device MLP trainer (mlp_train_cuda.h): K trials trained as one batch. The data goes
// up once; each step gathers its mini-batch on the device by index, runs the layers through
// one of two paths (mlp_train_detail.h: strided-batched GEMMs for equal widths in
// mlp_train_strided.cu, grouped-batched GEMMs over width groups in mlp_train_grouped.cu) and
// the batched kernels of mlp_batched.cu, and never waits for the host. Once per epoch the K
// losses come back (one copy) and the host decides improvement, patience and pruning exactly
// as trainer/mlp.cpp does; best weights are kept on the device. Every buffer is taken from the
// MemoryPool before the first step. The next epoch's shuffles are drawn on host threads while
// the GPU works.
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
#include "tabpilot/kernels/mlp_train_detail.h"

namespace tabpilot {
namespace {

namespace mb = mlp_batched;
using namespace mlp_train_detail;
using Clock = std::chrono::steady_clock;

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

// Every device buffer of the batch, filled with the data and the initial state.
Buffers allocate(const Layout& y, const MlpTrainData& data, MemoryPool& pool, StreamHandle s) {
  auto floats = [&](size_t count) { return DeviceBuffer<float>(count, pool, s); };
  Buffers b;
  b.x_tr = floats(y.n * y.dim), b.y_tr = floats(y.n);
  b.x_va = floats(y.nv * y.dim), b.y_va = floats(y.nv);
  b.x_tr.upload(data.x_train, y.n * y.dim);
  b.y_tr.upload(data.y_train, y.n);
  if (y.nv > 0) b.x_va.upload(data.x_valid, y.nv * y.dim), b.y_va.upload(data.y_valid, y.nv);
  b.order = DeviceBuffer<uint32_t>(static_cast<size_t>(y.K) * y.n, pool, s);
  b.xb = floats(y.xb_stride * y.K), b.yb = floats(static_cast<size_t>(y.bmax) * y.K);
  for (int l = 0; l < y.L; ++l) {
    b.act.push_back(floats(static_cast<size_t>(y.bmax) * y.opre[l][y.K]));
    b.dact.push_back(floats(static_cast<size_t>(y.bmax) * y.opre[l][y.K]));
  }
  b.eval_a = floats(static_cast<size_t>(y.chunk) * y.widest_layer);
  b.eval_b = floats(static_cast<size_t>(y.chunk) * y.widest_layer);
  b.params = floats(y.segs.total), b.grads = floats(y.segs.total);
  b.adam_m = floats(y.segs.total), b.adam_v = floats(y.segs.total);
  b.best = floats(y.segs.total);
  b.rates = floats(y.K), b.scales = floats(y.K), b.lrs = floats(y.K), b.decays = floats(y.K);
  b.seeds = DeviceBuffer<uint64_t>(y.K, pool, s);
  b.flags = DeviceBuffer<int>(2 * static_cast<size_t>(y.K), pool, s);  // improved[K], active[K]
  b.partials = DeviceBuffer<double>(static_cast<size_t>(y.K) * mb::kMaxLossBlocks, pool, s);
  b.acc = DeviceBuffer<double>(y.K, pool, s);
  b.ones = floats(static_cast<size_t>(y.bmax) * y.K);
  return b;
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
  const Layout y = make_layout(specs, data);
  const int K = y.K, L = y.L, hidden = y.hidden, outputs = y.outputs;
  const size_t n = y.n, nv = y.nv;

  // ---- host-side initial state: weights, per-trial constants, first orders ----
  std::vector<float> init(y.segs.total, 0.0f), rates(K), scales(K), lrs(K), decays(K);
  std::vector<uint64_t> dropout_seeds(K), shuffle_seeds(K);
  for (int k = 0; k < K; ++k) {
    const MlpTrialSpec& sp = specs[k];
    for (int l = 0; l < L; ++l) {
      const auto w = mlp_initial_weights(l, y.in_of(l, k), y.out_of(l, k), l == hidden,
                                         mlp_init_seed(sp.seed));
      std::copy(w.begin(), w.end(), init.begin() + y.w_off[l] + y.wpre[l][k]);
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

  // ---- every device buffer, and the path's tables, before the first step ----
  Buffers b = allocate(y, data, pool, s);
  b.params.upload(init.data(), init.size());
  b.ones.upload(std::vector<float>(b.ones.size(), 1.0f).data(), b.ones.size());
  copy_device_async(b.best.data(), b.params.data(), b.params.bytes(), s);
  b.adam_m.fill_zero();
  b.adam_v.fill_zero();
  b.rates.upload(rates.data(), K);
  b.scales.upload(scales.data(), K);
  b.lrs.upload(lrs.data(), K);
  b.decays.upload(decays.data(), K);
  b.seeds.upload(dropout_seeds.data(), K);
  std::vector<int> host_flags(2 * static_cast<size_t>(K), 0);
  std::fill(host_flags.begin() + K, host_flags.end(), 1);
  b.flags.upload(host_flags.data(), host_flags.size());
  b.order.upload(orders.data(), orders.size());
  const std::unique_ptr<BatchPath> path =
      y.grouped ? grouped_path(h, y, b, pool, s) : strided_path(h, y, b, s);
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
  const int* improved = b.flags.data();
  const int* active = b.flags.data() + K;
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
    if (nv == 0) b.acc.fill_zero();
    for (size_t begin = 0; begin < n; begin += y.bmax) {
      const int bs = static_cast<int>(std::min<size_t>(y.bmax, n - begin));
      ++step;
      mb::gather(b.x_tr.data(), b.y_tr.data(), b.order.data(), n, begin, bs, y.dim, K,
                 y.xb_stride, y.bmax, b.xb.data(), b.yb.data(), s);
      path->forward(bs, step);
      mb::loss(b.act[hidden].data(), b.params.data() + y.b_off[hidden], b.yb.data(), K, bs,
               outputs, data.classification, static_cast<size_t>(y.bmax) * outputs, y.bmax,
               b.dact[hidden].data(), 1.0f / static_cast<float>(bs), b.partials.data(),
               nv == 0 ? b.acc.data() : nullptr, s);
      path->backward(bs);
      // Bias corrections in double on the host, as adamw_step_cpu computes them.
      const mb::AdamScalars a{b1,
                              b2,
                              1.0f - b1,
                              1.0f - b2,
                              static_cast<float>(1.0 - std::pow(static_cast<double>(b1), step)),
                              static_cast<float>(1.0 - std::pow(static_cast<double>(b2), step)),
                              adam.eps};
      path->adamw(a, active);
    }
    if (nv > 0) {
      b.acc.fill_zero();
      for (size_t begin = 0; begin < nv; begin += y.chunk) {
        const int cn = static_cast<int>(std::min<size_t>(y.chunk, nv - begin));
        const float* out = path->evaluate(begin, cn);
        mb::loss(out, b.params.data() + y.b_off[hidden], b.y_va.data() + begin, K, cn, outputs,
                 data.classification, static_cast<size_t>(y.chunk) * outputs, 0, nullptr, 0.0f,
                 b.partials.data(), b.acc.data(), s);
      }
    }
    b.acc.download(host_acc.data(), K);
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
    b.flags.upload(host_flags.data(), host_flags.size());
    path->keep_best(improved);
    if (stats) stats->epoch_seconds.push_back(seconds_since(t_epoch));
    if (std::none_of(live.begin(), live.end(), [](char c) { return c != 0; })) break;
    b.order.upload(orders.data(), orders.size());
  }
  if (stats) stats->cuda_mallocs_in_loop = pool.stats().cuda_malloc_calls - mallocs_ready;

  // ---- best weights back to the host ----
  const std::vector<float> host_best = b.best.to_host();
  for (int k = 0; k < K; ++k) {
    MlpTrialResult& r = results[k];
    if (r.stopped.empty()) r.stopped = "max_epochs";
    r.w.resize(L), r.b.resize(L);
    for (int l = 0; l < L; ++l) {
      const auto wb = host_best.begin() + y.w_off[l] + y.wpre[l][k];
      r.w[l].assign(wb, wb + (y.wpre[l][k + 1] - y.wpre[l][k]));
      const auto bb = host_best.begin() + y.b_off[l] + y.opre[l][k];
      r.b[l].assign(bb, bb + (y.opre[l][k + 1] - y.opre[l][k]));
    }
  }
  return results;
}

}  // namespace

namespace mlp_train_detail {

Layout make_layout(const std::vector<MlpTrialSpec>& specs, const MlpTrainData& data) {
  Layout y;
  y.K = static_cast<int>(specs.size());
  y.hidden = specs[0].num_hidden, y.width = specs[0].width, y.dim = data.dim;
  y.outputs = data.outputs, y.L = y.hidden + 1;
  y.n = data.n_train, y.nv = data.n_valid;
  y.bmax = static_cast<int>(std::min<size_t>(specs[0].batch_size, y.n));
  y.chunk = static_cast<int>(std::min<size_t>(kEvalChunk, std::max<size_t>(y.nv, 1)));
  y.xb_stride = static_cast<size_t>(y.bmax) * y.dim;
  const int K = y.K, L = y.L;
  y.widths.assign(K, 0);
  y.hprefix.assign(K + 1, 0);
  for (int k = 0; k < K; ++k) {
    y.widths[k] = specs[k].width;
    y.hprefix[k + 1] = y.hprefix[k] + y.widths[k];
    if (y.groups.empty() || y.groups.back().width != y.widths[k])
      y.groups.push_back({k, 0, y.widths[k]});
    ++y.groups.back().count;
  }
  y.grouped = y.groups.size() > 1;
  y.wpre.assign(L, std::vector<size_t>(K + 1, 0));
  y.opre = y.wpre;
  for (int l = 0; l < L; ++l) {
    for (int k = 0; k < K; ++k) {
      y.wpre[l][k + 1] = y.wpre[l][k] + static_cast<size_t>(y.in_of(l, k)) * y.out_of(l, k);
      y.opre[l][k + 1] = y.opre[l][k] + static_cast<size_t>(y.out_of(l, k));
    }
    y.widest_layer = std::max(y.widest_layer, y.opre[l][K]);
  }
  y.lin.assign(L, 0), y.lout.assign(L, 0), y.w_off.assign(L, 0), y.b_off.assign(L, 0);
  mb::Segments& segs = y.segs;
  for (int l = 0; l < L; ++l) {
    y.lin[l] = l == 0 ? y.dim : y.width;
    y.lout[l] = l < y.hidden ? y.width : y.outputs;
    y.w_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = y.wpre[l][1];
    segs.decayed[segs.count++] = 1;
    segs.total += y.wpre[l][K];
    y.b_off[l] = segs.total;
    segs.base[segs.count] = segs.total, segs.per_trial[segs.count] = y.opre[l][1];
    segs.decayed[segs.count++] = 0;
    segs.total += y.opre[l][K];
  }
  return y;
}

}  // namespace mlp_train_detail

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
