#!/usr/bin/env python3
"""Scale check: a generated CSV of 1,000,000 rows x 50 columns (numeric, categorical, some
missing values) fitted with --time-limit 300. Records the file size, wall time, peak
resident memory of the tabpilot process (getrusage of the child), and the ingestion and
transform rows/s that the job writes into job.json (tabpilot.timings).

usage: bench/scale_fit.py [--rows 1000000] [--time-limit 300] [--out bench/out/scale.json]
"""
import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

import numpy as np


def generate(path, rows, seed=7):
    rng = np.random.default_rng(seed)
    cols = {}
    n_num, n_cat = 40, 9
    for j in range(n_num):
        v = rng.normal(size=rows) * (j + 1)
        cols[f"x{j}"] = v
    cats = {}
    for j in range(n_cat):
        k = [3, 5, 10, 20, 50, 100, 200, 8, 4][j]
        cats[f"c{j}"] = rng.integers(0, k, size=rows)
    y = (cols["x0"] * 0.5 + np.sin(cols["x1"]) * 3 + cols["x2"] * cols["x3"] / 10
         + cats["c0"] * 2.0 + (cats["c2"] % 3) + rng.normal(size=rows))
    with open(path, "w") as f:
        names = list(cols) + list(cats) + ["y"]
        f.write(",".join(names) + "\n")
        block = 100000
        for s in range(0, rows, block):
            e = min(rows, s + block)
            parts = []
            for j, name in enumerate(cols):
                v = np.char.mod("%.5g", cols[name][s:e])
                if j % 5 == 0:  # some missing values
                    v[rng.random(e - s) < 0.05] = ""
                parts.append(v)
            for j, name in enumerate(cats):
                v = np.char.add("cat", cats[name][s:e].astype(str))
                if j == 1:
                    v[rng.random(e - s) < 0.1] = ""
                parts.append(v)
            parts.append(np.char.mod("%.6g", y[s:e]))
            lines = [",".join(row) for row in zip(*parts)]
            f.write("\n".join(lines) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--binary", default=os.path.join(here, "..", "build", "tabpilot"))
    ap.add_argument("--csv", default=os.path.join(tempfile.gettempdir(), "tabpilot_scale_%d.csv"))
    ap.add_argument("--out", default=os.path.join(here, "out", "scale.json"))
    args = ap.parse_args()
    csv = args.csv % args.rows if "%d" in args.csv else args.csv
    if not os.path.exists(csv):
        t0 = time.time()
        generate(csv, args.rows)
        print(f"generated {csv} in {time.time() - t0:.0f}s")
    size = os.path.getsize(csv)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    runs = os.path.join(os.path.dirname(args.out), "runs")
    t0 = time.time()
    p = subprocess.run([args.binary, "fit", csv, "--target", "y", "--output", runs, "--name", "scale",
                        "--force", "--time-limit", str(args.time_limit)], capture_output=True, text=True)
    wall = time.time() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    job = json.load(open(os.path.join(runs, "scale", "job.json")))
    res = {
        "rows": args.rows, "file_bytes": size, "time_limit": args.time_limit,
        "exit_code": p.returncode, "wall_seconds": round(wall, 1),
        "peak_rss_bytes": peak, "peak_over_file": round(peak / size, 2),
        "status": job["AutoMLJobStatus"], "secondary": job["AutoMLJobSecondaryStatus"],
        "trials": job["tabpilot"].get("trials"), "timings": job["tabpilot"].get("timings"),
        "best": job.get("BestCandidate", {}).get("FinalAutoMLJobObjectiveMetric"),
    }
    if p.returncode != 0:
        res["stderr"] = p.stderr[-2000:]
    json.dump(res, open(args.out, "w"), indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
