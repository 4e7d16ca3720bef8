// One cuBLAS handle per (device, stream), created on first use and bound to that stream, with
// its workspace taken from the device's MemoryPool (so GEMMs do not cudaMalloc). FP32 or TF32
// math is a per-handle setting that the GEMM kernels in kernels/ follow. C++17, no CUDA headers.
#pragma once
#include "tabpilot/cuda/stream.h"

struct cublasContext;  // cuBLAS's opaque handle type (cublasHandle_t is cublasContext*)

namespace tabpilot {

// kFp32: full-precision SGEMM. kTf32: tensor cores with 10-bit mantissa inputs, ~1e-3
// relative error, several times faster on Ampere and later.
enum class BlasMath { kFp32, kTf32 };

class BlasHandle {
 public:
  // The handle for `stream` on `device` (nullptr: the device's default stream). Thread-safe;
  // the reference stays valid until the Stream is destroyed. Concurrent GEMMs on one stream
  // from several threads are not supported (as with the stream itself).
  static BlasHandle& get(Device device, StreamHandle stream);
  // The handle for `stream` on the current device: what kernels taking a stream use.
  static BlasHandle& current(StreamHandle stream);

  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;

  ::cublasContext* raw() const { return handle_; }
  Device device() const { return device_; }
  StreamHandle stream() const { return stream_; }
  BlasMath math() const { return math_; }
  void set_math(BlasMath math);

 private:
  BlasHandle(Device device, StreamHandle stream);
  friend struct BlasHandleRegistry;

  ::cublasContext* handle_ = nullptr;
  Device device_;
  StreamHandle stream_ = nullptr;
  BlasMath math_ = BlasMath::kFp32;
  void* workspace_ = nullptr;
};

namespace cuda_detail {
// Destroys the handles bound to `stream` (called by ~Stream). Never throws.
void drop_blas_handles(StreamHandle stream) noexcept;
}  // namespace cuda_detail

}  // namespace tabpilot
