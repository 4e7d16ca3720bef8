#!/usr/bin/env bash
# Builds the pinned XGBoost release with CUDA from its PyPI source distribution (which carries
# the C++ sources under cpp_src/), checksum-verified, into a cache folder that later runs
# reuse; prints the install prefix on its last line. Debian's libxgboost has no CUDA: this is
# what tabpilot links instead when setup asks for it (TABPILOT_XGBOOST_CUDA=1 ./scripts/setup.sh).
#
# Environment: TABPILOT_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/tabpilot),
# TABPILOT_XGBOOST_CUDA_ARCHS (default 90: H100/H200), JOBS (default: every core).
# Needs nvcc (CUDA 12.x or 13.x), cmake and pip (to fetch the sdist from PyPI). On 2 cores the
# CUDA compile takes about an hour; the cache makes it a one-time cost.
set -euo pipefail

VERSION=3.1.3
SHA256=0aeaa59d7ba09221a6fa75f70406751cfafdf3f149d0a91b197a1360404a28f3
ARCHS=${TABPILOT_XGBOOST_CUDA_ARCHS:-90}
CACHE=${TABPILOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tabpilot}
PREFIX="$CACHE/xgboost-$VERSION-cuda-sm${ARCHS//;/-}"
JOBS=${JOBS:-$(nproc)}

if [[ -f "$PREFIX/lib/libxgboost.so" && -f "$PREFIX/include/xgboost/c_api.h" ]]; then
  echo "build_xgboost_cuda: cached in $PREFIX" >&2
  echo "$PREFIX"
  exit 0
fi
NVCC=$(command -v nvcc || true)
[[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]] && NVCC=/usr/local/cuda/bin/nvcc
if [[ -z "$NVCC" ]]; then
  echo "build_xgboost_cuda: nvcc not found (install the CUDA toolkit)" >&2
  exit 1
fi

WORK="$CACHE/build-xgboost-$VERSION"
mkdir -p "$WORK"
TARBALL="$WORK/xgboost-$VERSION.tar.gz"
if [[ ! -f "$TARBALL" ]]; then
  echo "build_xgboost_cuda: downloading the xgboost $VERSION source distribution from PyPI" >&2
  python3 -m pip download --quiet --no-deps --no-binary :all: "xgboost==$VERSION" -d "$WORK" >&2
fi
echo "$SHA256  $TARBALL" | sha256sum -c --quiet - >&2 || {
  echo "build_xgboost_cuda: $TARBALL does not match the pinned SHA-256; removed" >&2
  rm -f "$TARBALL"
  exit 1
}
rm -rf "$WORK/src" && mkdir -p "$WORK/src"
tar xzf "$TARBALL" -C "$WORK/src" --strip-components=1
echo "build_xgboost_cuda: building xgboost $VERSION with CUDA for sm_$ARCHS ($JOBS jobs)" >&2
cmake -S "$WORK/src/cpp_src" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release \
  -DUSE_CUDA=ON -DUSE_NCCL=OFF -DCMAKE_CUDA_ARCHITECTURES="$ARCHS" \
  -DCMAKE_CUDA_COMPILER="$NVCC" -DBUILD_STATIC_LIB=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" >&2
cmake --build "$WORK/build" -j"$JOBS" >&2
cmake --install "$WORK/build" >&2
rm -rf "$WORK/src" "$WORK/build"  # the tarball stays, for a rebuild without the network
echo "build_xgboost_cuda: installed in $PREFIX" >&2
echo "$PREFIX"
