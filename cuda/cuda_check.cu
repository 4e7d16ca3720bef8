// Messages for failed CUDA and cuBLAS calls, with the remedy a user can act on.
#include <cstdio>
#include <string>

#include "tabpilot/cuda/cuda_check.h"
#include "tabpilot/cuda/device.h"

namespace tabpilot::cuda_detail {
namespace {

const char* remedy(cudaError_t err) {
  switch (err) {
    case cudaErrorMemoryAllocation:
      return "out of GPU memory: reduce the batch size or the number of trials per GPU";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInitializationError:
      return "no usable GPU: check nvidia-smi, CUDA_VISIBLE_DEVICES and that the driver "
             "supports CUDA 13, or run on the CPU";
    case cudaErrorInvalidDevice:
      return "no such device ordinal: check CUDA_VISIBLE_DEVICES and the requested device";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorInvalidKernelImage:
      return "this binary has no code for this GPU: rebuild with "
             "-DCMAKE_CUDA_ARCHITECTURES=<the GPU's compute capability, e.g. 90>";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
      return "a kernel accessed memory out of bounds (a bug: rerun under compute-sanitizer and "
             "report it); the GPU context is now unusable, restart the process";
    default:
      return "rerun with CUDA_LAUNCH_BLOCKING=1 to find the failing call";
  }
}

const char* remedy(cublasStatus_t st) {
  switch (st) {
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "out of GPU memory: reduce the batch size or the number of trials per GPU";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "cuBLAS could not start: check nvidia-smi and the driver, or run on the CPU";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "this GPU lacks a feature the call needs: use FP32 math instead of TF32";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "a GEMM got a bad dimension or leading dimension (a bug: please report it)";
    default:
      return "rerun with CUDA_LAUNCH_BLOCKING=1 to find the failing call";
  }
}

std::string message(const char* what, const char* name, const char* desc, const char* expr,
                    const char* file, int line, const char* fix) {
  return std::string(file) + ":" + std::to_string(line) + ": " + what + " " + name + " (" +
         desc + ") in " + expr + ": " + fix;
}

}  // namespace

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call does not report it again
  throw CudaError(message("CUDA error", cudaGetErrorName(err), cudaGetErrorString(err), expr,
                          file, line, remedy(err)),
                  err == cudaErrorMemoryAllocation);
}

void throw_cublas_error(cublasStatus_t st, const char* expr, const char* file, int line) {
  throw CudaError(message("cuBLAS error", cublasGetStatusName(st), cublasGetStatusString(st),
                          expr, file, line, remedy(st)),
                  st == CUBLAS_STATUS_ALLOC_FAILED);
}

void warn_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  cudaGetLastError();
  const std::string m = message("CUDA error", cudaGetErrorName(err), cudaGetErrorString(err),
                                expr, file, line, remedy(err));
  std::fprintf(stderr, "tabpilot: %s\n", m.c_str());
}

}  // namespace tabpilot::cuda_detail
