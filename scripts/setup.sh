#!/usr/bin/env bash
# Installs what is missing (Debian packages, as root), then configures and builds tabpilot in
# ./build. Safe to run again: apt-get skips what is installed and the build is incremental.
# Environment: BUILD_DIR (default build), TABPILOT_CUDA (AUTO|ON|OFF, default AUTO),
# CMAKE_BUILD_TYPE (default Release), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# libtorch-dev is only for tests/reference (our MLP math against LibTorch, TABPILOT_LIBTORCH).
# chromium is only for tests/report (the HTML reports rendered headless; skipped without it).
# libpq-dev builds the PostgreSQL trial store; postgresql (the server) is only for the tests
# that start one of their own (tests/store, tests/app: many workers).
packages=(build-essential cmake pkg-config libxgboost-dev nlohmann-json3-dev libcli11-dev
          libopenblas-dev libsqlite3-dev sqlite3 libssl-dev googletest libgtest-dev
          libgmock-dev libbenchmark-dev libtorch-dev chromium
          clang-14 libclang-rt-14-dev wrk  # scripts/fuzz.sh (libFuzzer), bench/serve
          libpq-dev postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# TABPILOT_XGBOOST_CUDA=1: link XGBoost built with CUDA (scripts/build_xgboost_cuda.sh, about
# an hour on 2 cores the first time, cached after). Without it, or when that build fails,
# tabpilot links Debian's CPU-only libxgboost.
XGB_ROOT=""
if [ "${TABPILOT_XGBOOST_CUDA:-0}" = 1 ]; then
  if ! XGB_ROOT=$(./scripts/build_xgboost_cuda.sh | tail -n 1) || [ -z "$XGB_ROOT" ]; then
    echo "setup: the CUDA build of XGBoost failed (see above); linking Debian's CPU-only libxgboost"
    XGB_ROOT=""
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
# nvcc is usually outside PATH; CMake finds it here when TABPILOT_CUDA is AUTO or ON.
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B "$BUILD_DIR" -DTABPILOT_CUDA="${TABPILOT_CUDA:-AUTO}" \
  -DTABPILOT_XGBOOST_ROOT="$XGB_ROOT" \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}"
echo "setup: built $BUILD_DIR/tabpilot"
