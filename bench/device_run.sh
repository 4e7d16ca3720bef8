#!/usr/bin/env bash
# The one command the lead runs on a lent GPU machine (H100/H200), from binaries built here:
#   .gpu/b/{tabpilot,tests/tests_gpu,bench/bench_gpu_*} (stripped) and .gpu/lib.tar.xz (the
#   shared libraries the GPU image lacks: OpenBLAS, XGBoost, benchmark, ...).
# Runs a GPU-slot fit end to end, then bench/gpu_check.sh; packs everything into
# $OUT/gpu-out.tgz and copies the summary to $OUT/summary.txt.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-./gpu-out-final}
mkdir -p "$OUT" /tmp/tp
tar xJf .gpu/lib.tar.xz -C /tmp/tp
export LD_LIBRARY_PATH="/tmp/tp/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
G=/tmp/gpu-out
rm -rf "$G" /tmp/runs
mkdir -p "$G"
# End to end: an MLP-only job; one trial slot is the GPU.
timeout 60 .gpu/b/tabpilot fit examples/abalone/train.csv --target rings --output /tmp/runs \
  --name gpu-fit --learners mlp --max-candidates 16 --time-limit 40 --threads 1 >"$G/fit.log" 2>&1
echo "fit rc=$?" >>"$G/fit.log"
.gpu/b/tabpilot trials /tmp/runs/gpu-fit --format csv >"$G/fit_trials.csv" 2>&1
python3 - >"$G/fit_devices.txt" 2>&1 <<'PY'
import sqlite3, json
db = sqlite3.connect("/tmp/runs/gpu-fit/store.sqlite")
for name, state, info in db.execute("select name, state, info from trials order by id"):
    i = json.loads(info or "{}")
    fit = (i.get("fit") or [{}])[0]
    print(name, state, i.get("device"), fit.get("device"), "batch=%s" % i.get("batch", 1), fit.get("note", ""), i.get("seconds"))
PY
cp /tmp/runs/gpu-fit/job.json "$G/fit_job.json" 2>/dev/null
# TF32 vs FP32 in the GPU MLP: the same trials (one GPU slot, same seed, hold-out, no refit)
# with TABPILOT_MLP_TF32=0 and =1; validation scores side by side in tf32_effect.txt.
for ds in california_housing:median_house_value bank_marketing:y; do
  name=${ds%%:*} target=${ds##*:}
  [[ -f .gpu/data/$name/train.csv ]] || continue
  for tf in 0 1; do
    TABPILOT_MLP_TF32=$tf timeout 45 .gpu/b/tabpilot fit ".gpu/data/$name/train.csv" \
      --target "$target" --learners mlp --device gpu --max-candidates 6 --cv-folds 0 \
      --no-refit --seed 0 --time-limit 30 --output /tmp/runs --name "$name-tf32-$tf" --quiet \
      >>"$G/tf32_runs.log" 2>&1
    .gpu/b/tabpilot trials "/tmp/runs/$name-tf32-$tf" --sort id --format json \
      >"$G/$name-tf32-$tf.json" 2>>"$G/tf32_runs.log"
  done
done
python3 - "$G" >"$G/tf32_effect.txt" 2>&1 <<'PY'
import json, sys, os
g = sys.argv[1]
for name in ("california_housing", "bank_marketing"):
    try:
        a = json.load(open(os.path.join(g, name + "-tf32-0.json")))
        b = json.load(open(os.path.join(g, name + "-tf32-1.json")))
    except Exception as e:
        print(name, "missing:", e); continue
    print("==", name, "(objective", a[0]["objective_metric"] if a else "?", ")")
    for x, y in zip(a, b):
        print("%-22s fp32 %-12s tf32 %-12s fp32 %.2fs tf32 %.2fs" % (
            x["trial"], x["objective"], y["objective"], x["seconds"] or 0, y["seconds"] or 0))
PY
TOTAL_BUDGET_S=${TOTAL_BUDGET_S:-400} BUILD_DIR=.gpu/b OUT="$G" bash bench/gpu_check.sh \
  >"$G/gpu_check.stdout" 2>&1
tar czf "$OUT/gpu-out.tgz" -C /tmp gpu-out
cp "$G/summary.txt" "$OUT/summary.txt" 2>/dev/null
cat "$G/fit_devices.txt" | head -20
cat "$G/summary.txt"
