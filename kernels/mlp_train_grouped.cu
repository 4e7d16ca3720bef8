// The mixed-width path of the batched MLP trainer: trials are sorted by width, so that equal
// widths are adjacent; every per-trial block lies at a prefix-sum offset. The GEMMs of a layer
// run as one cublasSgemmGroupedBatched over the width groups, reading device arrays of matrix
// pointers built once before the first step; the elementwise kernels find a trial from the
// width prefix sums; the bias gradients take one strided GEMV per width group (cuBLAS has no
// grouped GEMV).
#include <array>

#include "tabpilot/common/error.h"
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/kernels/mlp_train_detail.h"

namespace tabpilot::mlp_train_detail {
namespace {

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

// Where one GEMM's three operands start in the pointer table.
struct Triple {
  size_t a = 0, b = 0, c = 0;
};

// Group dims (m, n, k, lda, ldb, ldc) of layer l's three GEMMs for `rows` rows, as functions
// of a group's width.
auto fwd_dims(const Layout& y, int l, int rows) {
  const int dim = y.dim, hidden = y.hidden, outputs = y.outputs;
  return [=](int w) {
    const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
    return std::array<int, 6>{out, rows, in, in, in, out};
  };
}
auto wgrad_dims(const Layout& y, int l, int rows) {
  const int dim = y.dim, hidden = y.hidden, outputs = y.outputs;
  return [=](int w) {
    const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
    return std::array<int, 6>{in, out, rows, in, out, in};
  };
}
auto igrad_dims(const Layout& y, int l, int rows) {
  const int dim = y.dim, hidden = y.hidden, outputs = y.outputs;
  return [=](int w) {
    const int in = l == 0 ? dim : w, out = l < hidden ? w : outputs;
    return std::array<int, 6>{in, rows, out, in, out, in};
  };
}

class GroupedPath final : public BatchPath {
 public:
  GroupedPath(cublasHandle_t h, const Layout& layout, Buffers& b, MemoryPool& pool,
              StreamHandle s)
      : h_(h), y_(layout), b_(b), s_(s), fwd_(layout.L), wgrad_(layout.L), igrad_(layout.L),
        eval_(layout.L) {
    build_segment_table(pool);
    build_pointer_table(pool);
  }

  void forward(int bs, int step) override {
    const Layout& y = y_;
    for (int l = 0; l < y.L; ++l) {
      const uint64_t counter = static_cast<uint64_t>(step) * 4 + l;
      gemm_grouped(h_, CUBLAS_OP_T, CUBLAS_OP_N, y.groups, ptrs_.data(), fwd_[l].a, fwd_[l].b,
                   fwd_[l].c, fwd_dims(y, l, bs));
      if (l < y.hidden)
        mb::bias_relu_dropout_grouped(b_.act[l].data(), b_.params.data() + y.b_off[l], y.K, bs,
                                      y.bmax, hprefix_.data(), y.hprefix[y.K], b_.rates.data(),
                                      b_.scales.data(), b_.seeds.data(), counter, s_);
    }
  }

  void backward(int bs) override {
    const Layout& y = y_;
    for (int l = y.L; l-- > 0;) {
      gemm_grouped(h_, CUBLAS_OP_N, CUBLAS_OP_T, y.groups, ptrs_.data(), wgrad_[l].a,
                   wgrad_[l].b, wgrad_[l].c, wgrad_dims(y, l, bs));
      for (const WidthGroup& g : y.groups) {  // cuBLAS has no grouped GEMV: one per width
        const int out = y.out_of(l, g.first);
        bias_grad(h_, b_.dact[l].data() + y.bmax * y.opre[l][g.first],
                  static_cast<long long>(y.bmax) * out, b_.ones.data(), y.bmax,
                  b_.grads.data() + y.b_off[l] + y.opre[l][g.first], bs, out, g.count);
      }
      if (l > 0) {
        gemm_grouped(h_, CUBLAS_OP_N, CUBLAS_OP_N, y.groups, ptrs_.data(), igrad_[l].a,
                     igrad_[l].b, igrad_[l].c, igrad_dims(y, l, bs));
        mb::relu_dropout_backward_grouped(b_.act[l - 1].data(), b_.dact[l - 1].data(), y.K, bs,
                                          y.bmax, hprefix_.data(), y.hprefix[y.K],
                                          b_.scales.data(), s_);
      }
    }
  }

  void adamw(const mb::AdamScalars& a, const int* active) override {
    mb::adamw_grouped(b_.params.data(), b_.grads.data(), b_.adam_m.data(), b_.adam_v.data(),
                      table_, b_.lrs.data(), b_.decays.data(), active, a, s_);
  }

  const float* evaluate(size_t begin, int cn) override {
    const Layout& y = y_;
    const float* in = nullptr;
    for (int l = 0; l < y.L; ++l) {
      float* out = l % 2 == 0 ? b_.eval_a.data() : b_.eval_b.data();
      // Layer 0 reads chunk c's rows: ptrs[eval0_b + c * K + k].
      const size_t b = l == 0 ? eval0_b_ + (begin / y.chunk) * y.K : eval_[l].b;
      gemm_grouped(h_, CUBLAS_OP_T, CUBLAS_OP_N, y.groups, ptrs_.data(), eval_[l].a, b,
                   eval_[l].c, fwd_dims(y, l, cn));
      if (l < y.hidden)
        mb::bias_relu_dropout_grouped(out, b_.params.data() + y.b_off[l], y.K, cn, y.chunk,
                                      hprefix_.data(), y.hprefix[y.K], nullptr, nullptr, nullptr,
                                      0, s_);
      in = out;
    }
    return in;
  }

  void keep_best(const int* improved) override {
    mb::copy_masked_grouped(b_.params.data(), b_.best.data(), table_, improved, s_);
  }

 private:
  // The flat parameter vector as (segment, trial) blocks, and the width prefix sums.
  void build_segment_table(MemoryPool& pool) {
    const Layout& y = y_;
    std::vector<size_t> starts;
    std::vector<int> trial_of, decayed_of;
    for (int l = 0; l < y.L; ++l)
      for (int part = 0; part < 2; ++part)
        for (int k = 0; k < y.K; ++k) {
          starts.push_back(part == 0 ? y.w_off[l] + y.wpre[l][k] : y.b_off[l] + y.opre[l][k]);
          trial_of.push_back(k);
          decayed_of.push_back(part == 0);
        }
    starts.push_back(y.segs.total);
    seg_start_ = DeviceBuffer<size_t>(starts.size(), pool, s_);
    seg_trial_ = DeviceBuffer<int>(trial_of.size(), pool, s_);
    seg_decayed_ = DeviceBuffer<int>(decayed_of.size(), pool, s_);
    hprefix_ = DeviceBuffer<int>(y.hprefix.size(), pool, s_);
    seg_start_.upload(starts.data(), starts.size());
    seg_trial_.upload(trial_of.data(), trial_of.size());
    seg_decayed_.upload(decayed_of.data(), decayed_of.size());
    hprefix_.upload(y.hprefix.data(), y.hprefix.size());
    table_.count = static_cast<int>(trial_of.size());
    table_.total = y.segs.total;
    table_.start = seg_start_.data(), table_.trial = seg_trial_.data();
    table_.decayed = seg_decayed_.data();
  }

  // Every GEMM's operand pointers, K per operand, in one device array.
  void build_pointer_table(MemoryPool& pool) {
    const Layout& y = y_;
    std::vector<float*> ptrs;
    auto put = [&](auto at) {  // appends K pointers, at(k), and returns where they start
      const size_t first = ptrs.size();
      for (int k = 0; k < y.K; ++k) ptrs.push_back(const_cast<float*>(at(k)));
      return first;
    };
    auto weights = [&](float* base, int l) {
      return [&, base, l](int k) { return base + y.w_off[l] + y.wpre[l][k]; };
    };
    auto rows_at = [&](float* base, size_t rows, int l) {
      return [&, base, rows, l](int k) { return base + rows * y.opre[l][k]; };
    };
    auto x_at = [&](int k) { return b_.xb.data() + static_cast<size_t>(k) * y.xb_stride; };
    for (int l = 0; l < y.L; ++l) {
      fwd_[l].a = put(weights(b_.params.data(), l));
      fwd_[l].b = l == 0 ? put(x_at) : put(rows_at(b_.act[l - 1].data(), y.bmax, l - 1));
      fwd_[l].c = put(rows_at(b_.act[l].data(), y.bmax, l));
      wgrad_[l].a = fwd_[l].b;
      wgrad_[l].b = put(rows_at(b_.dact[l].data(), y.bmax, l));
      wgrad_[l].c = put(weights(b_.grads.data(), l));
      if (l > 0) {
        igrad_[l].a = fwd_[l].a, igrad_[l].b = wgrad_[l].b;
        igrad_[l].c = put(rows_at(b_.dact[l - 1].data(), y.bmax, l - 1));
      }
      if (y.nv > 0) {
        float* out = l % 2 == 0 ? b_.eval_a.data() : b_.eval_b.data();
        float* prev = l % 2 == 0 ? b_.eval_b.data() : b_.eval_a.data();
        eval_[l].a = fwd_[l].a;
        if (l > 0) eval_[l].b = put(rows_at(prev, y.chunk, l - 1));
        eval_[l].c = put(rows_at(out, y.chunk, l));
      }
    }
    eval0_b_ = ptrs.size();
    for (size_t begin = 0; begin < y.nv; begin += y.chunk)
      put([&](int) { return b_.x_va.data() + begin * y.dim; });
    ptrs_ = DeviceBuffer<float*>(ptrs.size(), pool, s_);
    ptrs_.upload(ptrs.data(), ptrs.size());
  }

  cublasHandle_t h_;
  const Layout& y_;
  Buffers& b_;
  StreamHandle s_;
  DeviceBuffer<size_t> seg_start_;
  DeviceBuffer<int> seg_trial_, seg_decayed_, hprefix_;
  DeviceBuffer<float*> ptrs_;
  mb::SegmentTable table_;
  std::vector<Triple> fwd_, wgrad_, igrad_, eval_;
  size_t eval0_b_ = 0;
};

}  // namespace

std::unique_ptr<BatchPath> grouped_path(cublasHandle_t h, const Layout& layout, Buffers& b,
                                        MemoryPool& pool, StreamHandle s) {
  return std::make_unique<GroupedPath>(h, layout, b, pool, s);
}

}  // namespace tabpilot::mlp_train_detail
