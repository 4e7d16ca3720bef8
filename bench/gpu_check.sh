#!/usr/bin/env bash
# GPU checks from binaries built beforehand (nothing is compiled here): device info, the GPU
# test suite (gtest JSON), compute-sanitizer memcheck and racecheck when available, and the GPU
# benchmarks (JSON). Each step has a timeout and the whole script stays under 7 minutes; a
# failing step never stops the rest. Everything lands under $OUT; a summary prints at the end.
#
#   BUILD_DIR=build-gpu OUT=/tmp/gpu-out bench/gpu_check.sh
#
# Build it first (on any machine with nvcc, no GPU needed):
#   cmake -S . -B build-gpu -DTABPILOT_CUDA=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     "-DCMAKE_CUDA_FLAGS_RELWITHDEBINFO=-O3 -g -lineinfo -DNDEBUG"
#   cmake --build build-gpu --target tabpilot_cli tests_gpu bench_gpu_transforms bench_gpu_mlp \
#     bench_xgboost_rounds gen_table -j2
# (TABPILOT_XGBOOST_CUDA=1 BUILD_DIR=build-gpu ./scripts/setup.sh links XGBoost with CUDA.)
set -u

BUILD_DIR=${BUILD_DIR:-build}
OUT=${OUT:-./gpu-out}
TOTAL_BUDGET_S=${TOTAL_BUDGET_S:-410}  # 7 minutes less a margin for the summary
mkdir -p "$OUT"
START=$(date +%s)
export PATH="$PATH:/usr/local/cuda/bin"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/cuda/lib64"

TESTS="$BUILD_DIR/tests/tests_gpu"
SUMMARY=()
FAILED=0

# step NAME TIMEOUT_S COMMAND...: runs with a timeout capped by the time left, output to
# $OUT/NAME.log, and records the outcome.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((TOTAL_BUDGET_S - ($(date +%s) - START)))
  if ((left < 10)); then
    SUMMARY+=("$(printf '%-22s %-8s %s' "$name" SKIPPED "no time left")")
    FAILED=1
    return
  fi
  ((limit > left)) && limit=$left
  echo "==> $name (timeout ${limit}s): $*"
  local t0 rc status
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124 | 137) status=TIMEOUT; FAILED=1 ;;
    *) status="FAIL(rc=$rc)"; FAILED=1 ;;
  esac
  SUMMARY+=("$(printf '%-22s %-12s %4ss  %s' "$name" "$status" $(($(date +%s) - t0)) \
    "$OUT/$name.log")")
  tail -n 3 "$OUT/$name.log"
}

skip() {  # skip NAME REASON
  SUMMARY+=("$(printf '%-22s %-12s %s' "$1" SKIPPED "$2")")
}

# ---- the machine ------------------------------------------------------------------------
{
  date -u +%Y-%m-%dT%H:%M:%SZ
  uname -a
  nproc
} >"$OUT/host.txt" 2>&1
if command -v nvidia-smi >/dev/null; then
  step nvidia-smi 30 nvidia-smi
  step nvidia-smi-query 30 nvidia-smi \
    --query-gpu=name,driver_version,memory.total,clocks.max.memory,clocks.max.sm,power.limit \
    --format=csv
else
  skip nvidia-smi "nvidia-smi not found"
  FAILED=1
fi

# ---- tests ------------------------------------------------------------------------------
if [[ -x "$TESTS" ]]; then
  step tests_gpu 120 "$TESTS" --gtest_filter='*Gpu*' --gtest_output="json:$OUT/tests_gpu.json"
else
  skip tests_gpu "$TESTS not built"
  FAILED=1
fi

# ---- the GPU at work end to end: XGBoost per round, and whole fits CPU vs GPU ---------------
# XGBoost hist vs its CUDA build per boosting round at 1M rows (target: >= 5x), then the same
# `tabpilot fit` with --device cpu and --device gpu at one time limit on the 1M x 50 scale
# table (gen_table) and two datasets (DATA_DIR/<name>/train.csv): trials completed, best
# validation objective, seconds until the GPU run reached the CPU run's best
# (gpu_fit_compare.py; targets on the 1M table: >= 5x the trials, a better or equal best).
E2E=${E2E:-1}
if [[ $E2E == 1 && -x "$BUILD_DIR/tabpilot" ]]; then
  [[ -x "$BUILD_DIR/bench/bench_xgboost_rounds" ]] &&
    step xgboost_rounds 150 "$BUILD_DIR/bench/bench_xgboost_rounds" 1000000 30
  SCALE_CSV=${TMPDIR:-/tmp}/tabpilot_scale_1m.csv
  [[ -f "$SCALE_CSV" || ! -x "$BUILD_DIR/bench/gen_table" ]] ||
    step gen_table 60 "$BUILD_DIR/bench/gen_table" "$SCALE_CSV" 1000000
  [[ -f "$SCALE_CSV" ]] &&
    step fit_scale_1m 230 python3 "$(dirname "$0")/gpu_fit_compare.py" --binary "$BUILD_DIR/tabpilot" \
      --csv "$SCALE_CSV" --target y --time-limit "${E2E_SCALE_SECONDS:-75}" --out "$OUT/fit" \
      --name scale_1m
  DATA_DIR=${DATA_DIR:-$(dirname "$0")/../../shared/datasets}
  for ds in california_housing:median_house_value diamonds:price; do
    name=${ds%%:*} target=${ds##*:}
    if [[ -f "$DATA_DIR/$name/train.csv" ]]; then
      step "fit_$name" 110 python3 "$(dirname "$0")/gpu_fit_compare.py" \
        --binary "$BUILD_DIR/tabpilot" --csv "$DATA_DIR/$name/train.csv" --target "$target" \
        --time-limit "${E2E_DATASET_SECONDS:-30}" --out "$OUT/fit" --name "$name"
    else
      skip "fit_$name" "$DATA_DIR/$name/train.csv not found"
    fi
  done
else
  skip end_to_end "E2E=0 or no $BUILD_DIR/tabpilot"
fi

# ---- our CUDA path against PyTorch on this GPU ------------------------------------------
# One MLP step (forward with our dropout mask, softmax-CE, gradients, one AdamW step) from
# our kernels, recomputed by torch autograd and torch.optim.AdamW (the LibTorch inside this
# machine's PyTorch).
if [[ -x "$TESTS" ]] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step torch_dump 60 env TABPILOT_TORCH_DUMP="$OUT/cuda_step_dump.json" "$TESTS" \
    --gtest_filter='GpuTorchReference.*'
  step torch_cuda_reference 60 python3 "$(dirname "$0")/torch_cuda_reference.py" \
    "$OUT/cuda_step_dump.json" --out "$OUT/torch_cuda_reference.json"
else
  skip torch_cuda_reference "no test binary, or python3 torch with CUDA not available"
fi

# ---- benchmarks -------------------------------------------------------------------------
shopt -s nullglob
benches=("$BUILD_DIR"/bench/bench_gpu_*)
if ((${#benches[@]} == 0)); then
  skip bench_gpu "no $BUILD_DIR/bench/bench_gpu_* binaries"
  FAILED=1
fi
for b in "${benches[@]}"; do
  [[ -x "$b" && -f "$b" ]] || continue
  name=$(basename "$b")
  step "$name" 120 "$b" --benchmark_format=console --benchmark_out="$OUT/$name.json" \
    --benchmark_out_format=json --benchmark_counters_tabular=true
done

# ---- MLP trainer vs PyTorch ---------------------------------------------------------------
# The same two workloads as bench_gpu_mlp (one epoch at 1M x 100; K = 1, 8, 64 trials) in
# PyTorch on this GPU, then ours / torch into $OUT/ratios.json. Targets: epoch speedup >= 1.5,
# K = 64 batched trials/s >= 10x 64 sequential torch trainings.
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step torch_mlp_reference 150 python3 "$(dirname "$0")/torch_mlp_reference.py" \
    --out "$OUT/torch_mlp_reference.json"
else
  skip torch_mlp_reference "python3 torch with CUDA not available"
fi
if [[ -f "$OUT/bench_gpu_mlp.json" && -f "$OUT/torch_mlp_reference.json" ]]; then
  step mlp_ratios 30 python3 -c '
import json, sys
ours = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch = json.load(open(sys.argv[2]))
def counter(prefix, key):
    for name, b in ours.items():
        if name.startswith(prefix) and key in b:
            return b[key]
    return None
r = {"device": torch["device"], "targets": {"epoch_speedup_fp32": 1.5, "k64_trials_speedup": 10}}
for mode in ("fp32", "tf32"):
    mine = counter("BM_GpuMlpEpoch/tf32:%d" % (mode == "tf32"), "sec_per_epoch")
    theirs = torch["epoch_%s" % mode]["sec_per_epoch"]
    r["epoch_%s" % mode] = {"ours_sec": mine, "torch_sec": theirs,
                            "speedup": theirs / mine if mine else None}
for k, t in torch["trials"].items():
    mine = counter("BM_GpuMlpTrialBatch/K:%s/" % k, "trials_per_s")
    r["trials_k%s" % k] = {"ours_trials_per_s": mine, "torch_trials_per_s": t["trials_per_s"],
                           "speedup": mine / t["trials_per_s"] if mine else None}
e, k64 = r["epoch_fp32"]["speedup"], r.get("trials_k64", {}).get("speedup")
r["meets_targets"] = bool(e and e >= 1.5 and k64 and k64 >= 10)
json.dump(r, open(sys.argv[3], "w"), indent=2)
print(json.dumps(r, indent=2))
print("epoch fp32 speedup %s, K=64 trials speedup %s" % (e, k64))
' "$OUT/bench_gpu_mlp.json" "$OUT/torch_mlp_reference.json" "$OUT/ratios.json"
else
  skip mlp_ratios "bench_gpu_mlp.json or torch_mlp_reference.json missing"
fi

# ---- compute-sanitizer (last: the slowest step, so it gets what time is left) -----------
SANITIZER=$(command -v compute-sanitizer || true)
[[ -z "$SANITIZER" && -x /usr/local/cuda/bin/compute-sanitizer ]] &&
  SANITIZER=/usr/local/cuda/bin/compute-sanitizer
if [[ -n "$SANITIZER" && -x "$TESTS" ]]; then
  # The out-of-memory test fails a cudaMalloc on purpose, which the sanitizer would report.
  step memcheck 90 "$SANITIZER" --tool memcheck --error-exitcode 99 "$TESTS" \
    --gtest_filter='*Gpu*:-*OutOfMemory*'
  # Racecheck looks at shared memory: the kernels that use it (tiles, block reductions).
  step racecheck 60 "$SANITIZER" --tool racecheck --error-exitcode 99 "$TESTS" \
    --gtest_filter='GpuTransforms.ImputeScaleColumns*:GpuMlpOps.*:GpuMetrics.*'
else
  skip memcheck "compute-sanitizer not found (or no test binary)"
  skip racecheck "compute-sanitizer not found (or no test binary)"
fi

# ---- summary ----------------------------------------------------------------------------
{
  echo
  echo "==== gpu_check summary ($(($(date +%s) - START))s, build $BUILD_DIR, output $OUT) ===="
  for line in "${SUMMARY[@]}"; do echo "$line"; done
  if [[ -f "$OUT/tests_gpu.json" ]]; then
    echo "-- tests:"
    if ! python3 - "$OUT/tests_gpu.json" 2>/dev/null <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
skipped = sum(1 for s in d["testsuites"] for t in s["testsuite"]
              if t.get("result") == "SKIPPED")
print(f'   {d["tests"]} tests, {d["failures"]} failed, {skipped} skipped')
for s in d["testsuites"]:
    for t in s["testsuite"]:
        if t.get("failures"):
            first = t["failures"][0]["failure"].splitlines()[0]
            print(f'   FAILED {s["name"]}.{t["name"]}: {first}')
PY
    then
      grep -E '"(tests|failures|disabled|errors)"' "$OUT/tests_gpu.json" | head -4
    fi
  fi
  for log in "$OUT"/bench_gpu_*.log; do
    echo "-- $(basename "$log" .log):"
    grep -E '^BM_' "$log" | sed 's/^/   /'
  done
  for tool in memcheck racecheck; do
    [[ -f "$OUT/$tool.log" ]] &&
      echo "-- $tool: $(grep -E '(ERROR|RACECHECK) SUMMARY' "$OUT/$tool.log" | tail -1)"
  done
  echo "overall: $([[ $FAILED == 0 ]] && echo OK || echo 'SOME STEPS FAILED')"
} | tee "$OUT/summary.txt"
exit $FAILED
