#!/usr/bin/env bash
# Runs every test of the build in ./build (CPU suite; GPU tests report SKIPPED without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/check_paths.sh  # no machine's absolute paths in tracked files
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 600 "$@"
./scripts/fuzz.sh  # the request parsers under libFuzzer + ASan/UBSan, ~1 minute
