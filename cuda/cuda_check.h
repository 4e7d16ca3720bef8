// Error checks for CUDA runtime and cuBLAS calls: a throwing form for ordinary code and a
// print-only form for destructors. Messages name the call, file, line, the error and a remedy.
// Includes CUDA headers, so only cuda/*.cu and kernels/*.cu may include it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace tabpilot::cuda_detail {

// Throws tabpilot::CudaError (cuda/device.h); out_of_memory() is set for allocation failures.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* expr, const char* file,
                                     int line);
// Prints the same message to stderr; for destructors, which must not throw.
void warn_cuda_error(cudaError_t err, const char* expr, const char* file, int line);

}  // namespace tabpilot::cuda_detail

#define TABPILOT_CUDA_CHECK(expr)                                                    \
  do {                                                                               \
    const cudaError_t tabpilot_err_ = (expr);                                        \
    if (tabpilot_err_ != cudaSuccess)                                                \
      ::tabpilot::cuda_detail::throw_cuda_error(tabpilot_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define TABPILOT_CUBLAS_CHECK(expr)                                                       \
  do {                                                                                    \
    const cublasStatus_t tabpilot_st_ = (expr);                                           \
    if (tabpilot_st_ != CUBLAS_STATUS_SUCCESS)                                            \
      ::tabpilot::cuda_detail::throw_cublas_error(tabpilot_st_, #expr, __FILE__, __LINE__); \
  } while (0)

// Print-only: for destructors and cleanup paths.
#define TABPILOT_CUDA_WARN(expr)                                                    \
  do {                                                                              \
    const cudaError_t tabpilot_err_ = (expr);                                       \
    if (tabpilot_err_ != cudaSuccess)                                               \
      ::tabpilot::cuda_detail::warn_cuda_error(tabpilot_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define TABPILOT_CUDA_CHECK_LAUNCH() TABPILOT_CUDA_CHECK(cudaGetLastError())
