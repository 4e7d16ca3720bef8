// TABPILOT_HOST_DEVICE marks inline functions that both a CPU twin and its CUDA kernel call,
// so the two share one definition of the math. C++17, since .cu files include it.
#pragma once

#if defined(__CUDACC__)
#define TABPILOT_HOST_DEVICE __host__ __device__
#else
#define TABPILOT_HOST_DEVICE
#endif
