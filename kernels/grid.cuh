// Launch and warp helpers shared by the kernels/*.cu files: 256-thread blocks, grid-stride
// loops over a capped grid, and shuffle-based warp reductions. Device code only.
#pragma once
#include <algorithm>
#include <cstddef>

namespace tabpilot::grid {

constexpr unsigned kBlock = 256;

// Blocks for n elements at one per thread, capped: kernels loop with a grid stride.
inline unsigned grid_for(size_t n) {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min<size_t>(blocks, size_t{1} << 21));
}

__device__ inline size_t thread_index() {
  return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline size_t thread_count() { return static_cast<size_t>(gridDim.x) * blockDim.x; }

__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Round-to-nearest adds in a fixed butterfly order, so the sum is the same on every run.
__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v = __fadd_rn(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace tabpilot::grid
