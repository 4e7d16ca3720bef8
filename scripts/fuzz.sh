#!/usr/bin/env bash
# Builds the request-parser fuzz targets (tests/fuzz/fuzz_*.cpp) with libFuzzer, ASan and UBSan
# into build-fuzz/, from just the sources the parsers need, and runs each for a bounded time
# from its seed corpus (tests/fuzz/corpus/<target>/; new inputs go to build-fuzz/corpus/, never
# into the source tree). A crash, leak or sanitizer report fails the script.
# Environment: FUZZ_SECONDS (per target, default 15), FUZZ_DIR (default build-fuzz), CXX_FUZZ
# (default clang++-14 or clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${FUZZ_DIR:-build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-15}
CXX=${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++ || true)}
if [ -z "$CXX" ]; then
  echo "fuzz: clang++ not found (scripts/setup.sh installs clang-14)" >&2
  exit 1
fi
mkdir -p "$OUT/include" "$OUT/obj" "$OUT/corpus"
ln -sfn "$PWD" "$OUT/include/tabpilot"
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$OUT/include" -Itests/fuzz)
SOURCES=(serve/http_request.cpp serve/request_body.cpp data/type_inference.cpp data/table.cpp)

# Rebuilds an output only when one of its inputs is newer (a tiny make).
stale() {
  local out=$1; shift
  [ -e "$out" ] || return 0
  for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
  return 1
}

objects=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(basename "${src%.cpp}").o"
  if stale "$obj" "$src" serve/*.h data/type_inference.h data/table.h; then
    "$CXX" "${FLAGS[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$src" -o "$obj" &
  fi
  objects+=("$obj")
done
wait

status=0
for target_src in tests/fuzz/fuzz_*.cpp; do
  name=$(basename "${target_src%.cpp}")
  corpus=${name#fuzz_}
  bin="$OUT/$name"
  if stale "$bin" "$target_src" tests/fuzz/fuzz_schema.h "${objects[@]}"; then
    "$CXX" "${FLAGS[@]}" "$target_src" "${objects[@]}" -o "$bin"
  fi
  mkdir -p "$OUT/corpus/$corpus"
  echo "fuzz: $name for ${SECONDS_PER_TARGET}s"
  if ! "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$OUT/$name-" -print_final_stats=1 \
       "$OUT/corpus/$corpus" "tests/fuzz/corpus/$corpus" > "$OUT/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $OUT/$name.log and $OUT/$name-crash-*" >&2
    tail -30 "$OUT/$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/$name.log" | tr '\n' ' '
    echo
  fi
done
exit $status
