// The "mlp" learner on the CPU: 1-3 ReLU hidden layers with dropout, softmax cross-entropy or
// MSE (on a standardized target), AdamW, seeded mini-batches, early stopping on validation
// loss with patience (best weights kept). Built only from the kernels/mlp_ops twins, so the
// CUDA path can replay the same steps. Inputs are standardized inside the learner.
//
// Determinism: every random draw (initial weights, epoch shuffles, dropout masks) is a hash of
// (seed, counter), so with threads = 1 the same seed gives bit-identical weights.
// ctx.report(epoch, loss) runs after every epoch (1-based): mean validation cross-entropy, or
// validation MSE in target units; without a validation set, the epoch's mean training loss
// (with dropout), and the last epoch's weights are kept.
// predict() is const with local scratch, so it may run on many threads at once.
//
// GPU: with ctx.device = cuda:N and a GPU present, fit() hands the same standardized data,
// seed and hyperparameters to train_mlp_cuda (kernels/mlp_train_cuda.h), which replays these
// steps on the device (same init, shuffles, dropout masks, AdamW, early stopping) in FP32;
// predict() stays on the CPU. TABPILOT_MLP_TF32=1 in the environment switches its GEMMs to
// TF32 (faster, ~1e-3 relative error). Without CUDA or a GPU, the CPU path runs and fit_info
// says why ("note"), logged once per process.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tabpilot/common/error.h"
#include "tabpilot/common/log.h"
#include "tabpilot/cuda/device.h"
#include "tabpilot/kernels/mlp_train_cuda.h"
#include "tabpilot/trainer/learner_factories.h"
#include "tabpilot/trainer/mlp_batch.h"
#include "tabpilot/trainer/mlp_model.h"

namespace tabpilot {

const ParamTable& mlp_param_table();

namespace {

using mlp::DenseLayer;
using mlp::MlpModel;

constexpr int kEvalChunk = 2048;  // rows per inference pass

void check_fit_data(const FitData& d) {
  if (d.x_train.rows == 0) throw InputError("mlp: the training set has no rows");
  if (d.x_train.cols == 0) throw InputError("mlp: the training set has no feature columns");
  if (!d.x_train.device.is_cpu() || (d.x_valid.rows > 0 && !d.x_valid.device.is_cpu()))
    throw InputError("mlp: training data must be in host memory");
  if (!d.y_train || d.y_train->size() != d.x_train.rows)
    throw InputError("mlp: y_train must have one value per training row");
  if (d.x_valid.rows > 0 && (!d.y_valid || d.y_valid->size() != d.x_valid.rows))
    throw InputError("mlp: y_valid must have one value per validation row");
  if (d.x_valid.rows > 0 && d.x_valid.cols != d.x_train.cols)
    throw InputError("mlp: validation and training sets have different column counts");
  if (d.task == Task::kBinary && d.num_classes != 2)
    throw InputError("mlp: a binary task needs num_classes = 2");
  if (d.task == Task::kMulticlass && d.num_classes < 2)
    throw InputError("mlp: a multiclass task needs num_classes >= 2");
  auto check = [&](const std::vector<float>& y, const char* set) {
    for (size_t i = 0; i < y.size(); ++i) {
      const float v = y[i];
      if (!std::isfinite(v))
        throw InputError(std::string("mlp: ") + set + " target at row " + std::to_string(i) +
                         " is not a finite number; drop rows with a missing target");
      if (is_classification(d.task) && (v != std::floor(v) || v < 0 || v >= d.num_classes))
        throw InputError(std::string("mlp: ") + set + " label at row " + std::to_string(i) +
                         " is " + std::to_string(v) + ", expected a class index in [0, " +
                         std::to_string(d.num_classes) + ")");
    }
  };
  check(*d.y_train, "training");
  if (d.x_valid.rows > 0) check(*d.y_valid, "validation");
}

// Input statistics in double; constant columns get scale 1 (their inputs become 0).
void fit_standardization(MatrixView x, MlpModel& m) {
  const size_t d = x.cols;
  std::vector<double> sum(d, 0.0), sq(d, 0.0), cnt(d, 0.0);
  for (size_t r = 0; r < x.rows; ++r) {
    const float* row = x.row(r);
    for (size_t c = 0; c < d; ++c)
      if (!std::isnan(row[c])) sum[c] += row[c], cnt[c] += 1;
  }
  m.x_mean.assign(d, 0.0f);
  m.x_scale.assign(d, 1.0f);
  for (size_t c = 0; c < d; ++c) m.x_mean[c] = cnt[c] > 0 ? float(sum[c] / cnt[c]) : 0.0f;
  for (size_t r = 0; r < x.rows; ++r) {
    const float* row = x.row(r);
    for (size_t c = 0; c < d; ++c)
      if (!std::isnan(row[c])) sq[c] += (row[c] - double(m.x_mean[c])) * (row[c] - m.x_mean[c]);
  }
  for (size_t c = 0; c < d; ++c) {
    const double sd = cnt[c] > 0 ? std::sqrt(sq[c] / cnt[c]) : 0.0;
    if (sd > 1e-12 * (1.0 + std::fabs(m.x_mean[c]))) m.x_scale[c] = float(1.0 / sd);
  }
}

// He-uniform for ReLU layers, Glorot-uniform for the output; drawn from the counter hash.
void init_layers(MlpModel& m, int num_hidden, int width, int outputs, uint64_t seed) {
  m.layers.clear();
  int in = m.dim;
  for (int l = 0; l <= num_hidden; ++l) {
    DenseLayer L;
    L.in = in;
    L.out = l < num_hidden ? width : outputs;
    L.w = mlp_initial_weights(l, L.in, L.out, l == num_hidden, seed);
    L.b.assign(L.out, 0.0f);
    m.layers.push_back(std::move(L));
    in = m.layers.back().out;
  }
}

// Why the CUDA path cannot train on `device`, or "" when it can.
std::string cuda_unavailable_reason(Device device) {
  if (!cuda_compiled()) return "this build has no CUDA backend (rebuild with -DTABPILOT_CUDA=ON)";
  const size_t count = cuda_devices().size();
  if (device.ordinal < 0 || static_cast<size_t>(device.ordinal) >= count)
    return "no CUDA device " + device.str() + " is visible (" + std::to_string(count) + " found)";
  return "";
}

bool tf32_requested() {
  const char* v = std::getenv("TABPILOT_MLP_TF32");
  return v && std::string(v) == "1";
}

class MlpLearner : public Learner {
 public:
  std::string name() const override { return "mlp"; }

  void fit(const FitData& data, const Params& params, const FitContext& ctx) override;

  void predict(MatrixView x, std::vector<float>& out) const override {
    if (!fitted_) throw std::logic_error("mlp: predict() before fit() or deserialize()");
    if (static_cast<int>(x.cols) != model_.dim)
      throw InputError("mlp: the model expects " + std::to_string(model_.dim) +
                       " feature columns, got " + std::to_string(x.cols));
    if (!x.device.is_cpu()) throw InputError("mlp: predict needs a host-memory matrix");
    const int width = is_classification(model_.task) ? model_.num_classes : 1;
    out.assign(x.rows * width, 0.0f);
    const size_t chunk = std::min<size_t>(kEvalChunk, std::max<size_t>(x.rows, 1));
    std::vector<float> xs(chunk * model_.dim), a(chunk * model_.widest()),
        b(chunk * model_.widest()), raw(chunk * model_.outputs());
    for (size_t begin = 0; begin < x.rows; begin += chunk) {
      const int n = static_cast<int>(std::min(chunk, x.rows - begin));
      mlp::standardize_rows(model_, x, begin, n, xs.data());
      mlp::forward_eval(model_, xs.data(), n, a.data(), b.data(), raw.data());
      mlp::finish_outputs(model_, raw.data(), n, out.data() + begin * width);
    }
  }

  std::vector<uint8_t> serialize() const override {
    if (!fitted_) throw std::logic_error("mlp: serialize() before fit()");
    return mlp::serialize_model(model_);
  }

  void deserialize(const std::vector<uint8_t>& bytes) override {
    model_ = mlp::deserialize_model(bytes);
    fitted_ = true;
  }

  nlohmann::json fit_info() const override { return info_; }

  // K compatible trials as one GPU batch (see trainer/mlp_batch.h).
  static std::vector<BatchFitResult> fit_batch_cuda(const FitData& data,
                                                    const std::vector<Params>& params,
                                                    const std::vector<uint64_t>& seeds,
                                                    const FitContext& ctx);

 private:
  // The device twin of fit()'s loop, on the prepared (standardized) sets.
  void fit_cuda(const MlpTrialSpec& spec, const std::vector<float>& xs,
                const std::vector<float>& yt, const std::vector<float>& xv,
                const std::vector<float>& yv, int max_epochs, int patience,
                const FitContext& ctx);

  // Mean loss over a standardized set: cross-entropy, or MSE in target units.
  // Standardizes `x` a chunk at a time, so no standardized copy of the set is held.
  double eval_loss(MatrixView x, const std::vector<float>& y) const;

  MlpModel model_;
  bool fitted_ = false;
  nlohmann::json info_ = nlohmann::json::object();
};

double MlpLearner::eval_loss(MatrixView x, const std::vector<float>& y) const {
  const size_t rows = y.size();
  const int k = model_.outputs();
  const size_t chunk = std::min<size_t>(kEvalChunk, rows);
  std::vector<float> a(chunk * model_.widest()), b(chunk * model_.widest()), raw(chunk * k);
  std::vector<float> xs(chunk * model_.dim);
  double total = 0.0;
  for (size_t begin = 0; begin < rows; begin += chunk) {
    const int n = static_cast<int>(std::min(chunk, rows - begin));
    mlp::standardize_rows(model_, x, begin, n, xs.data());
    mlp::forward_eval(model_, xs.data(), n, a.data(), b.data(), raw.data());
    if (model_.task == Task::kRegression)
      total += mse_cpu(raw.data(), y.data() + begin, nullptr, nullptr, n, 0.0f);
    else
      total +=
          softmax_xent_cpu(raw.data(), y.data() + begin, nullptr, nullptr, nullptr, n, k, 0.0f);
  }
  const double mean = total / static_cast<double>(rows);
  return model_.task == Task::kRegression ? mean * model_.y_scale * model_.y_scale : mean;
}

// What fit() and fit_batch() share: resolved hyperparameters, the standardization fitted on
// the training rows, the initial weights for `seed`, and the standardized sets.
struct MlpSetup {
  int num_hidden = 0, width = 0, batch = 0, max_epochs = 0, patience = 0;
  float rate = 0;
  AdamConfig adam_w, adam_b;
  MlpModel model;
  std::vector<float> xs, xv, yt, yv;
};

// `materialize`: also build the standardized sets (the GPU uploads them); the CPU loop
// standardizes each mini-batch as it gathers it instead, so a large training set is not held
// twice.
MlpSetup prepare_setup(const FitData& data, const Params& params, uint64_t seed,
                       bool materialize) {
  MlpSetup s;
  const Params p = resolve_params(mlp_param_table(), params);
  s.num_hidden = p["num_layers"].get<int>();
  s.width = p["width"].get<int>();
  s.rate = static_cast<float>(p["dropout"].get<double>());
  s.adam_w.learning_rate = static_cast<float>(p["learning_rate"].get<double>());
  s.adam_w.weight_decay = static_cast<float>(p["weight_decay"].get<double>());
  s.adam_b = s.adam_w;
  s.adam_b.weight_decay = 0.0f;  // biases are not decayed
  s.batch = std::stoi(p["batch_size"].get<std::string>());
  s.max_epochs = p["max_epochs"].get<int>();
  s.patience = p["patience"].get<int>();

  MlpModel& m = s.model;
  m.task = data.task;
  m.num_classes = is_classification(data.task) ? data.num_classes : 1;
  m.dim = static_cast<int>(data.x_train.cols);
  fit_standardization(data.x_train, m);
  const int k = is_classification(data.task) ? m.num_classes : 1;
  init_layers(m, s.num_hidden, s.width, k, mlp_init_seed(seed));

  const size_t n = data.x_train.rows, nv = data.x_valid.rows;
  if (materialize) {
    s.xs.resize(n * m.dim);
    s.xv.resize(nv * m.dim);
    mlp::standardize_rows(m, data.x_train, 0, n, s.xs.data());
    if (nv > 0) mlp::standardize_rows(m, data.x_valid, 0, nv, s.xv.data());
  }
  s.yt = *data.y_train;
  if (nv > 0) s.yv = *data.y_valid;
  if (data.task == Task::kRegression) {
    double sum = 0.0, sq = 0.0;
    for (float t : s.yt) sum += t;
    const double mean = sum / double(n);
    for (float t : s.yt) sq += (t - mean) * (t - mean);
    const double sd = std::sqrt(sq / double(n));
    m.y_mean = float(mean);
    m.y_scale = sd > 1e-12 * (1.0 + std::fabs(mean)) ? float(sd) : 1.0f;
    for (float& t : s.yt) t = (t - m.y_mean) / m.y_scale;
    for (float& t : s.yv) t = (t - m.y_mean) / m.y_scale;
  }
  return s;
}

void MlpLearner::fit(const FitData& data, const Params& params, const FitContext& ctx) {
  check_fit_data(data);
  openblas_set_num_threads(std::max(1, ctx.threads));
  const bool on_gpu = ctx.device.is_cuda() && cuda_unavailable_reason(ctx.device).empty();
  MlpSetup setup = prepare_setup(data, params, ctx.seed, on_gpu);
  const int num_hidden = setup.num_hidden, width = setup.width, batch = setup.batch;
  const int max_epochs = setup.max_epochs, patience = setup.patience;
  const float rate = setup.rate;
  const AdamConfig adam_w = setup.adam_w, adam_b = setup.adam_b;
  const size_t n = data.x_train.rows, nv = data.x_valid.rows;
  std::vector<float>& xs = setup.xs;
  std::vector<float>& xv = setup.xv;
  std::vector<float>& yt = setup.yt;
  std::vector<float>& yv = setup.yv;
  model_ = std::move(setup.model);
  fitted_ = true;
  const int k = model_.outputs();
  std::string cuda_note;
  if (ctx.device.is_cuda()) {
    cuda_note = cuda_unavailable_reason(ctx.device);
    if (cuda_note.empty()) {
      const MlpTrialSpec spec{num_hidden,           width, batch, adam_w.learning_rate,
                              adam_w.weight_decay, rate,  ctx.seed};
      fit_cuda(spec, xs, yt, xv, yv, max_epochs, patience, ctx);
      return;
    }
    static std::once_flag logged;
    std::call_once(logged, [&] { log::warn("mlp: " + cuda_note + "; training on the CPU"); });
  }
  MlpModel& net = model_;
  const size_t layers = net.layers.size();

  // Workspace sized once for the largest batch: activations, their gradients, parameter
  // gradients and Adam moments. Nothing allocates inside the epoch loop.
  const int bmax = static_cast<int>(std::min<size_t>(batch, n));
  std::vector<float> xb(static_cast<size_t>(bmax) * net.dim), yb(bmax);
  std::vector<std::vector<float>> act(layers), dact(layers), gw(layers), gb(layers), mw(layers),
      vw(layers), mb(layers), vb(layers);
  for (size_t l = 0; l < layers; ++l) {
    const DenseLayer& L = net.layers[l];
    act[l].resize(static_cast<size_t>(bmax) * L.out);
    dact[l].resize(act[l].size());
    gw[l].resize(L.w.size()), mw[l].assign(L.w.size(), 0.0f), vw[l].assign(L.w.size(), 0.0f);
    gb[l].resize(L.b.size()), mb[l].assign(L.b.size(), 0.0f), vb[l].assign(L.b.size(), 0.0f);
  }
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  const uint64_t shuffle_seed = mlp_shuffle_seed(ctx.seed),
                 dropout_seed = mlp_dropout_seed(ctx.seed);

  std::vector<DenseLayer> best = net.layers;
  double best_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0, since_best = 0, epoch = 0, step = 0;
  std::string stopped = "max_epochs";
  for (epoch = 1; epoch <= max_epochs; ++epoch) {
    mlp_shuffle(order, mix_hash(shuffle_seed, static_cast<uint64_t>(epoch)));
    double train_total = 0.0;
    for (size_t begin = 0; begin < n; begin += bmax) {
      const int bs = static_cast<int>(std::min<size_t>(bmax, n - begin));
      for (int r = 0; r < bs; ++r) {
        const uint32_t src = order[begin + r];
        mlp::standardize_rows(net, data.x_train, src, 1, xb.data() + size_t(r) * net.dim);
        yb[r] = yt[src];
      }
      ++step;
      const float* in = xb.data();
      for (size_t l = 0; l < layers; ++l) {
        DenseLayer& L = net.layers[l];
        if (l + 1 < layers) {
          dense_forward_cpu(in, L.w.data(), nullptr, act[l].data(), bs, L.in, L.out);
          bias_relu_dropout_cpu(act[l].data(), L.b.data(), bs, L.out, rate,
                                mix_hash(dropout_seed, uint64_t(step) * 4 + l));
        } else {
          dense_forward_cpu(in, L.w.data(), L.b.data(), act[l].data(), bs, L.in, L.out);
        }
        in = act[l].data();
      }
      const float scale = 1.0f / static_cast<float>(bs);
      train_total +=
          net.task == Task::kRegression
              ? mse_cpu(act.back().data(), yb.data(), dact.back().data(), nullptr, bs, scale)
              : softmax_xent_cpu(act.back().data(), yb.data(), nullptr, dact.back().data(), nullptr,
                                 bs, k, scale);
      for (size_t l = layers; l-- > 0;) {
        const DenseLayer& L = net.layers[l];
        const float* x_in = l == 0 ? xb.data() : act[l - 1].data();
        float* dx = l == 0 ? nullptr : dact[l - 1].data();
        dense_backward_cpu(x_in, L.w.data(), dact[l].data(), dx, gw[l].data(), gb[l].data(), bs,
                           L.in, L.out);
        if (dx) relu_dropout_backward_cpu(act[l - 1].data(), dx, bs, L.in, rate);
      }
      for (size_t l = 0; l < layers; ++l) {
        DenseLayer& L = net.layers[l];
        adamw_step_cpu(L.w.data(), gw[l].data(), mw[l].data(), vw[l].data(), L.w.size(), adam_w,
                       step);
        adamw_step_cpu(L.b.data(), gb[l].data(), mb[l].data(), vb[l].data(), L.b.size(), adam_b,
                       step);
      }
    }
    double loss = train_total / static_cast<double>(n);
    if (net.task == Task::kRegression) loss *= double(net.y_scale) * net.y_scale;
    if (nv > 0 && std::isfinite(loss)) loss = eval_loss(data.x_valid, yv);
    if (!std::isfinite(loss)) {
      fitted_ = false;  // a failed fit leaves no model behind
      throw std::runtime_error("mlp: non-finite loss at epoch " + std::to_string(epoch));
    }
    // Without a validation set the last epoch is the model; with one, the best so far.
    if (nv == 0 || loss < best_loss) {
      best_loss = loss, best_epoch = epoch, since_best = 0;
      best = net.layers;
    } else {
      ++since_best;
    }
    if (ctx.report && !ctx.report(epoch, loss)) {
      stopped = "pruned";
      break;
    }
    if (nv > 0 && since_best >= patience) {
      stopped = "early_stopping";
      break;
    }
    if (ctx.stop.should_stop()) {
      stopped = "stop_token";
      break;
    }
  }
  net.layers = std::move(best);
  info_ = {{"device", "cpu"},
           {"epochs", std::min(epoch, max_epochs)},
           {"best_epoch", best_epoch},
           {"best_loss", best_loss},
           {"stopped", stopped}};
  if (ctx.device.is_cuda()) info_["note"] = cuda_note + "; trained on the CPU";
}

void MlpLearner::fit_cuda(const MlpTrialSpec& spec, const std::vector<float>& xs,
                          const std::vector<float>& yt, const std::vector<float>& xv,
                          const std::vector<float>& yv, int max_epochs, int patience,
                          const FitContext& ctx) {
  MlpModel& net = model_;
  MlpTrainData d;
  d.dim = net.dim;
  d.outputs = net.outputs();
  d.classification = is_classification(net.task);
  d.x_train = xs.data(), d.y_train = yt.data(), d.n_train = yt.size();
  d.x_valid = xv.data(), d.y_valid = yv.data(), d.n_valid = yv.size();
  MlpTrainOptions o;
  o.device = ctx.device.ordinal;
  o.max_epochs = max_epochs;
  o.patience = patience;
  o.tf32 = tf32_requested();
  o.loss_scale = net.task == Task::kRegression ? double(net.y_scale) * net.y_scale : 1.0;
  o.on_epoch = [&ctx](int, int epoch, double loss) {
    return ctx.report && !ctx.report(epoch, loss) ? std::string("pruned") : std::string();
  };
  o.should_stop = [&ctx] { return ctx.stop.should_stop(); };
  MlpTrialResult r = train_mlp_cuda(spec, d, o);
  if (r.failed) {
    fitted_ = false;  // a failed fit leaves no model behind
    throw std::runtime_error("mlp: non-finite loss at epoch " + std::to_string(r.epochs));
  }
  for (size_t l = 0; l < net.layers.size(); ++l) {
    net.layers[l].w = std::move(r.w[l]);
    net.layers[l].b = std::move(r.b[l]);
  }
  info_ = {{"device", ctx.device.str()},     {"tf32", o.tf32},
           {"epochs", r.epochs},             {"best_epoch", r.best_epoch},
           {"best_loss", r.best_loss},       {"stopped", r.stopped}};
}

std::vector<BatchFitResult> MlpLearner::fit_batch_cuda(const FitData& data,
                                                       const std::vector<Params>& params,
                                                       const std::vector<uint64_t>& seeds,
                                                       const FitContext& ctx) {
  // Standardization and targets depend on the data only; each trial differs in its initial
  // weights (its seed) and optimiser settings.
  std::vector<MlpSetup> setups;
  std::vector<MlpTrialSpec> specs;
  for (size_t i = 0; i < params.size(); ++i) {
    setups.push_back(prepare_setup(data, params[i], seeds[i], /*materialize=*/true));
    const MlpSetup& s = setups.back();
    specs.push_back({s.num_hidden, s.width, s.batch, s.adam_w.learning_rate,
                     s.adam_w.weight_decay, s.rate, seeds[i]});
  }
  const MlpSetup& first = setups.front();
  MlpTrainData d;
  d.dim = first.model.dim;
  d.outputs = first.model.outputs();
  d.classification = is_classification(first.model.task);
  d.x_train = first.xs.data(), d.y_train = first.yt.data(), d.n_train = first.yt.size();
  d.x_valid = first.xv.data(), d.y_valid = first.yv.data(), d.n_valid = first.yv.size();
  MlpTrainOptions o;
  o.device = ctx.device.ordinal;
  o.max_epochs = first.max_epochs;
  o.patience = first.patience;
  o.tf32 = tf32_requested();
  o.loss_scale = first.model.task == Task::kRegression
                     ? double(first.model.y_scale) * first.model.y_scale
                     : 1.0;
  o.should_stop = [&ctx] { return ctx.stop.should_stop(); };
  std::vector<MlpTrialResult> results = train_mlp_batch_cuda(specs, d, o);
  std::vector<BatchFitResult> out(params.size());
  for (size_t i = 0; i < results.size(); ++i) {
    MlpTrialResult& r = results[i];
    if (r.failed) {
      out[i].error = "mlp: non-finite loss at epoch " + std::to_string(r.epochs);
      continue;
    }
    auto learner = std::make_unique<MlpLearner>();
    learner->model_ = std::move(setups[i].model);
    for (size_t l = 0; l < learner->model_.layers.size(); ++l) {
      learner->model_.layers[l].w = std::move(r.w[l]);
      learner->model_.layers[l].b = std::move(r.b[l]);
    }
    learner->fitted_ = true;
    learner->info_ = {{"device", ctx.device.str()}, {"tf32", o.tf32},
                      {"epochs", r.epochs},         {"best_epoch", r.best_epoch},
                      {"best_loss", r.best_loss},   {"stopped", r.stopped},
                      {"batched_with", params.size()}};
    out[i].learner = std::move(learner);
  }
  return out;
}

}  // namespace

std::vector<BatchFitResult> fit_mlp_batch(const FitData& data, const std::vector<Params>& params,
                                          const std::vector<uint64_t>& seeds,
                                          const FitContext& ctx) {
  if (params.size() != seeds.size())
    throw std::invalid_argument("fit_mlp_batch: one seed per trial");
  if (params.empty()) return {};
  std::vector<Params> resolved;
  for (const auto& p : params) resolved.push_back(resolve_params(mlp_param_table(), p));
  for (size_t i = 1; i < resolved.size(); ++i)
    for (const auto& key : mlp_batch_keys())
      if (resolved[i][key] != resolved[0][key])
        throw InputError("mlp batch: trial " + std::to_string(i) + " has " + key + " = " +
                         resolved[i][key].dump() + " but trial 0 has " + resolved[0][key].dump() +
                         "; a batch shares num_layers, batch_size, max_epochs and patience "
                         "(widths may differ)");
  check_fit_data(data);
  const bool gpu = ctx.device.is_cuda() && cuda_unavailable_reason(ctx.device).empty();
  if (gpu && params.size() > 1) return MlpLearner::fit_batch_cuda(data, resolved, seeds, ctx);
  // One after another: the CPU (or a batch of one) trains each trial on its own.
  std::vector<BatchFitResult> out(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    FitContext c = ctx;
    c.seed = seeds[i];
    c.report = nullptr;
    try {
      auto learner = std::make_unique<MlpLearner>();
      learner->fit(data, resolved[i], c);
      out[i].learner = std::move(learner);
    } catch (const std::exception& e) {
      out[i].error = e.what();
    }
    if (ctx.stop.should_stop()) {
      for (size_t j = i + 1; j < params.size(); ++j) out[j].error = "stopped before it started";
      break;
    }
  }
  return out;
}

const ParamTable& mlp_param_table() {
  static const ParamTable table = {
      {"num_layers", ParamType::kInt, 2, 1, 3, {}, "hidden ReLU layers"},
      {"width", ParamType::kLogInt, 128, 16, 512, {}, "units per hidden layer"},
      {"dropout", ParamType::kFloat, 0.1, 0.0, 0.5, {}, "drop probability after each hidden layer"},
      {"learning_rate", ParamType::kLogFloat, 1e-3, 1e-4, 3e-2, {}, "AdamW step size"},
      {"weight_decay",
       ParamType::kLogFloat,
       1e-5,
       1e-7,
       1e-1,
       {},
       "AdamW decoupled weight decay on weights (not biases)"},
      {"batch_size",
       ParamType::kChoice,
       "256",
       0,
       0,
       {"64", "128", "256", "512"},
       "rows per mini-batch"},
      {"max_epochs", ParamType::kInt, 100, 5, 500, {}, "most passes over the training rows"},
      {"patience",
       ParamType::kInt,
       10,
       3,
       30,
       {},
       "epochs without a better validation loss before stopping (best weights kept)"},
  };
  return table;
}

// A refit on all rows trains for as many epochs as the trial's best one.
Params mlp_refit_params(const Params& params, const nlohmann::json& fit_info) {
  if (!fit_info.contains("best_epoch")) return params;
  return with_int_param(mlp_param_table(), params, "max_epochs",
                        std::max(1.0, fit_info["best_epoch"].get<double>()));
}

const LearnerInfo& mlp_learner_info() {
  static const LearnerInfo info = [] {
    LearnerInfo i;
    i.name = "mlp";
    i.title = "multi-layer perceptron (CUDA kernels, CPU twin)";
    i.make = [] { return std::unique_ptr<Learner>(std::make_unique<MlpLearner>()); };
    i.params = mlp_param_table;
    i.refit_params = mlp_refit_params;
    i.fit_batch = fit_mlp_batch;
    i.batch_keys = mlp_batch_keys();
    i.cost_params = {"max_epochs", "width"};
    i.shap = ShapMethod::kNone;
    i.gpu = true;
    return i;
  }();
  return info;
}

}  // namespace tabpilot
