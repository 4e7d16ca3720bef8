#!/usr/bin/env python3
"""The same tabpilot fit with --device cpu and --device gpu, at the same time limit: trials
completed, best validation objective, and the seconds the GPU run took to reach the CPU run's
best score. Standard library only (it runs on the bare GPU machine).

usage: gpu_fit_compare.py --binary B --csv F --target T --time-limit S --out DIR [--name N]
       [--threads N]
Writes DIR/<name>.json and prints one line.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time


def fit(args, device, out):
    name = "%s-%s" % (args.name, device)
    cmd = [args.binary, "fit", args.csv, "--target", args.target, "--time-limit",
           str(args.time_limit), "--device", device, "--output", out, "--name", name, "--force",
           "--quiet", "--seed", "0"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - start
    job = os.path.join(out, name)
    result = {"device": device, "command": " ".join(cmd), "exit": proc.returncode,
              "wall_seconds": round(wall, 1), "stderr": proc.stderr[-500:]}
    if proc.returncode != 0 or not os.path.exists(os.path.join(job, "store.sqlite")):
        return result, []
    with open(os.path.join(job, "job.json")) as f:
        j = json.load(f)
    result["objective"] = j["AutoMLJobObjective"]["MetricName"]
    result["best_candidate"] = j.get("BestCandidate", {}).get("CandidateName")
    result["slots"] = j.get("tabpilot", {}).get("slots")
    db = sqlite3.connect(os.path.join(job, "store.sqlite"))
    created = json.loads(db.execute("select value from meta where key='creation_time'").fetchone()[0])
    rows = db.execute("select name, objective, finished_at, info from trials where state='COMPLETE'"
                      " and learner != 'ensemble' order by finished_at").fetchall()
    trials = [(r[0], r[1], r[2] - created, json.loads(r[3] or "{}").get("device")) for r in rows]
    result["trials_completed"] = len(trials)
    result["trials_on_gpu"] = sum(1 for t in trials if (t[3] or "").startswith("cuda"))
    return result, trials


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--time-limit", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    args.name = args.name or os.path.splitext(os.path.basename(args.csv))[0]
    runs = os.path.join(args.out, "runs")
    os.makedirs(runs, exist_ok=True)
    report = {"name": args.name, "time_limit": args.time_limit}
    trials = {}
    for device in ("cpu", "gpu"):
        report[device], trials[device] = fit(args, device, runs)
    higher = report["cpu"].get("objective") in ("F1", "Accuracy", "AUC", "R2", "BalancedAccuracy",
                                                "F1macro")

    def better(a, b):
        return a > b if higher else a < b

    def best(ts):
        vals = [t[1] for t in ts if t[1] is not None]
        return (max(vals) if higher else min(vals)) if vals else None

    for device in ("cpu", "gpu"):
        report[device]["best_validation"] = best(trials[device])
    target = report["cpu"]["best_validation"]
    reached = None
    if target is not None:
        so_far = None
        for name, obj, at, _ in trials["gpu"]:
            if obj is None:
                continue
            so_far = obj if so_far is None or better(obj, so_far) else so_far
            if not better(target, so_far):
                reached = round(at, 1)
                break
    report["gpu_seconds_to_cpu_best"] = reached
    cpu_n = report["cpu"].get("trials_completed") or 0
    gpu_n = report["gpu"].get("trials_completed") or 0
    report["trials_ratio"] = round(gpu_n / cpu_n, 2) if cpu_n else None
    with open(os.path.join(args.out, args.name + ".json"), "w") as f:
        json.dump(report, f, indent=1)
    print("%s: trials cpu %s gpu %s (x%s); best cpu %s gpu %s; gpu reached the cpu best after %s s"
          % (args.name, cpu_n, gpu_n, report["trials_ratio"], report["cpu"]["best_validation"],
             report["gpu"]["best_validation"], reached))
    return 0 if report["cpu"]["exit"] == 0 and report["gpu"]["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
