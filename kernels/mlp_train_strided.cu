// The equal-width path of the batched MLP trainer: the K trials' matrices lie at fixed
// strides, so every GEMM of a layer is one cublasSgemmStridedBatched over the K trials.
// Row-major buffers are passed to cuBLAS as column-major transposes.
#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/kernels/mlp_train_detail.h"

namespace tabpilot::mlp_train_detail {
namespace {

// y[n, out] = x[n, in] w[out, in]^T, K trials at once.
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

class StridedPath final : public BatchPath {
 public:
  StridedPath(cublasHandle_t h, const Layout& layout, Buffers& b, StreamHandle s)
      : h_(h), y_(layout), b_(b), s_(s) {}

  void forward(int bs, int step) override {
    const Layout& y = y_;
    const float* in = b_.xb.data();
    long long in_stride = static_cast<long long>(y.xb_stride);
    for (int l = 0; l < y.L; ++l) {
      const long long stride = static_cast<long long>(y.bmax) * y.lout[l];
      const uint64_t counter = static_cast<uint64_t>(step) * 4 + l;
      gemm_forward(h_, in, in_stride, b_.params.data() + y.w_off[l], bs, y.lin[l], y.lout[l],
                   b_.act[l].data(), stride, y.K);
      if (l < y.hidden)
        mb::bias_relu_dropout(b_.act[l].data(), b_.params.data() + y.b_off[l], y.K, bs, y.width,
                              stride, b_.rates.data(), b_.scales.data(), b_.seeds.data(), counter,
                              s_);
      in = b_.act[l].data(), in_stride = stride;
    }
  }

  void backward(int bs) override {
    const Layout& y = y_;
    for (int l = y.L; l-- > 0;) {
      const long long stride = static_cast<long long>(y.bmax) * y.lout[l];
      const float* x_in = l == 0 ? b_.xb.data() : b_.act[l - 1].data();
      const long long x_stride = l == 0 ? static_cast<long long>(y.xb_stride)
                                        : static_cast<long long>(y.bmax) * y.lout[l - 1];
      gemm_weight_grad(h_, x_in, x_stride, b_.dact[l].data(), stride,
                       b_.grads.data() + y.w_off[l], bs, y.lin[l], y.lout[l], y.K);
      bias_grad(h_, b_.dact[l].data(), stride, b_.ones.data(), y.bmax,
                b_.grads.data() + y.b_off[l], bs, y.lout[l], y.K);
      if (l > 0) {
        gemm_input_grad(h_, b_.params.data() + y.w_off[l], b_.dact[l].data(), stride,
                        b_.dact[l - 1].data(), x_stride, bs, y.lin[l], y.lout[l], y.K);
        mb::relu_dropout_backward(b_.act[l - 1].data(), b_.dact[l - 1].data(), y.K, bs, y.width,
                                  x_stride, b_.scales.data(), s_);
      }
    }
  }

  void adamw(const mb::AdamScalars& a, const int* active) override {
    mb::adamw(b_.params.data(), b_.grads.data(), b_.adam_m.data(), b_.adam_v.data(), y_.segs,
              b_.lrs.data(), b_.decays.data(), active, a, s_);
  }

  const float* evaluate(size_t begin, int cn) override {
    const Layout& y = y_;
    const float* in = b_.x_va.data() + begin * y.dim;
    long long in_stride = 0;  // every trial reads the same validation rows
    for (int l = 0; l < y.L; ++l) {
      float* out = l % 2 == 0 ? b_.eval_a.data() : b_.eval_b.data();
      const long long stride = static_cast<long long>(y.chunk) * y.lout[l];
      gemm_forward(h_, in, in_stride, b_.params.data() + y.w_off[l], cn, y.lin[l], y.lout[l], out,
                   stride, y.K);
      if (l < y.hidden)
        mb::bias_relu_dropout(out, b_.params.data() + y.b_off[l], y.K, cn, y.width, stride,
                              nullptr, nullptr, nullptr, 0, s_);
      in = out, in_stride = stride;
    }
    return in;
  }

  void keep_best(const int* improved) override {
    mb::copy_masked(b_.params.data(), b_.best.data(), y_.segs, improved, s_);
  }

 private:
  cublasHandle_t h_;
  const Layout& y_;
  Buffers& b_;
  StreamHandle s_;
};

}  // namespace

void bias_grad(cublasHandle_t h, const float* dy, long long dy_stride, const float* ones,
               long long ones_stride, float* db, int n, int out, int k) {
  // dy read as column-major [out, n] times ones[n]: cuBLAS sums in a fixed order.
  const float one = 1.0f, zero = 0.0f;
  TABPILOT_CUBLAS_CHECK(cublasSgemvStridedBatched(h, CUBLAS_OP_N, out, n, &one, dy, out,
                                                  dy_stride, ones, 1, ones_stride, &zero, db, 1,
                                                  out, k));
}

std::unique_ptr<BatchPath> strided_path(cublasHandle_t h, const Layout& layout, Buffers& b,
                                        StreamHandle s) {
  return std::make_unique<StridedPath>(h, layout, b, s);
}

}  // namespace tabpilot::mlp_train_detail
