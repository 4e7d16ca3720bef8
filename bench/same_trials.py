#!/usr/bin/env python3
"""Two tabpilot binaries, the same jobs: do their trials score the same?

For every dataset of ../shared/datasets (or --datasets), runs
  BIN fit train.csv --target T --max-candidates 20 --threads 1 --learners linear,xgboost,mlp
      --seed 0 --quiet
with --before and with --after, then compares the two trials.csv files trial by trial (same
names, same states, validation objective equal). A refactoring that promises unchanged
behaviour must come out with every trial identical, or each difference explained (the order
of a floating-point sum changed). Writes a JSON report with --out.

usage: bench/same_trials.py --before OLD/tabpilot --after build/tabpilot [--datasets a,b]
                            [--work DIR] [--out bench/results/same-trials.json]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from portable_paths import DATASETS, portable  # noqa: E402

OPTIONS = ["--max-candidates", "20", "--threads", "1", "--learners", "linear,xgboost,mlp",
           "--seed", "0", "--quiet"]


def run(binary, dataset, target, out, name):
    start = time.time()
    proc = subprocess.run([binary, "fit", os.path.join(DATASETS, dataset, "train.csv"), "--target",
                           target, "--output", out, "--name", name, "--force"] + OPTIONS,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("%s on %s failed (%d): %s" % (binary, dataset, proc.returncode,
                                                       proc.stderr.strip()[-400:]))
    return time.time() - start


def trials(path):
    with open(path) as f:
        return {row["trial"]: row for row in csv.DictReader(f)}


def objective_column(job_json):
    metric = json.load(open(job_json))["AutoMLJobObjective"]["MetricName"]
    return "validation:" + metric


def compare(dataset, before_dir, after_dir):
    col = objective_column(os.path.join(after_dir, "job.json"))
    a, b = trials(os.path.join(before_dir, "trials.csv")), trials(os.path.join(after_dir, "trials.csv"))
    row = {"dataset": dataset, "objective": col, "trials_before": len(a), "trials_after": len(b),
           "identical": 0, "differ": [], "only_before": sorted(set(a) - set(b)),
           "only_after": sorted(set(b) - set(a)), "max_relative_difference": 0.0}
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        same_state = x["state"] == y["state"]
        vx, vy = x.get(col, ""), y.get(col, "")
        if same_state and vx == vy:
            row["identical"] += 1
            continue
        rel = None
        try:
            fx, fy = float(vx), float(vy)
            rel = abs(fx - fy) / max(abs(fx), abs(fy), 1e-300)
            row["max_relative_difference"] = max(row["max_relative_difference"], rel)
        except ValueError:
            pass
        row["differ"].append({"trial": name, "state": [x["state"], y["state"]],
                              "before": vx, "after": vy, "relative": rel})
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--datasets", help="comma-separated names (default: all)")
    ap.add_argument("--work", default=None, help="where the job folders go (default: a temp dir)")
    ap.add_argument("--out", help="write the report here (JSON)")
    args = ap.parse_args()
    names = args.datasets.split(",") if args.datasets else sorted(
        d for d in os.listdir(DATASETS) if os.path.exists(os.path.join(DATASETS, d, "META.json")))
    work = args.work or tempfile.mkdtemp(prefix="tabpilot-same-trials-")
    rows = []
    for d in names:
        target = json.load(open(os.path.join(DATASETS, d, "META.json")))["target"]
        seconds = {}
        for which, binary in (("before", args.before), ("after", args.after)):
            seconds[which] = round(run(os.path.abspath(binary), d, target,
                                       os.path.join(work, which), d), 1)
        row = compare(d, os.path.join(work, "before", d), os.path.join(work, "after", d))
        row["seconds"] = seconds
        rows.append(row)
        print("%-26s %3d/%-3d identical  %d differ  max rel %.2g  (%s s / %s s)" % (
            d, row["identical"], max(row["trials_before"], row["trials_after"]),
            len(row["differ"]) + len(row["only_before"]) + len(row["only_after"]),
            row["max_relative_difference"], seconds["before"], seconds["after"]), flush=True)
        for diff in row["differ"]:
            print("    %s: %s" % (diff["trial"], diff))
    report = {"options": OPTIONS, "before": args.before, "after": args.after,
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "datasets": rows}
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(portable(report), f, indent=1)
    all_same = all(not r["differ"] and not r["only_before"] and not r["only_after"] for r in rows)
    print("every trial identical" if all_same else "some trials differ (see above)")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
