#!/usr/bin/env python3
"""tabpilot vs XGBoost with default settings, on the fixed train/test split of each dataset.

For every dataset folder (train.csv, test.csv, META.json with "target" and "task"):
  * tabpilot: `tabpilot fit train.csv --target T --time-limit L`, then `tabpilot predict` on
    test.csv; the wall time of the fit is recorded.
  * peer: xgboost (Python package) with default parameters on one-hot-encoded data
    (pandas.get_dummies over train+test categories), same split.
Both are scored on test.csv with the problem type's default objective: regression MSE,
binary F1 (positive class by tabpilot's documented rule, applied to both), multiclass
Accuracy. Writes a JSON file and prints a Markdown table.

usage: bench/compare_xgboost.py [--datasets DIR] [--time-limit 120] [--out bench/out/compare.json]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

MISSING = ["", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]


def positive_label(labels, counts):
    true_like = {"1", "1.0", "true", "yes", "y", "t", "positive", "pos"}

    def is_true(s):
        s = s.lower()
        return s in true_like or ("positive" in s and "negative" not in s)

    a, b = labels
    if is_true(a) != is_true(b):
        return a if is_true(a) else b
    if counts[a] != counts[b]:
        return a if counts[a] < counts[b] else b
    return max(a, b)


def label_text(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def score(task, y_true, y_pred, positive=None):
    if task == "regression":
        return float(np.mean((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2))
    y_true = [label_text(v) for v in y_true]
    y_pred = [label_text(v) for v in y_pred]
    if task == "binary":
        tp = sum(t == positive and p == positive for t, p in zip(y_true, y_pred))
        fp = sum(t != positive and p == positive for t, p in zip(y_true, y_pred))
        fn = sum(t == positive and p != positive for t, p in zip(y_true, y_pred))
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return float(np.mean([t == p for t, p in zip(y_true, y_pred)]))


def xgboost_default(train, test, target, task, threads):
    import xgboost as xgb
    X = pd.get_dummies(pd.concat([train.drop(columns=[target]), test.drop(columns=[target])]),
                       dummy_na=False)
    X = X.astype(float)
    # XGBoost refuses feature names with [, ] or < (california's "<1H OCEAN").
    X.columns = ["f%d" % i for i in range(X.shape[1])]
    Xtr, Xte = X.iloc[: len(train)], X.iloc[len(train):]
    t0 = time.time()
    if task == "regression":
        model = xgb.XGBRegressor(n_jobs=threads)
        model.fit(Xtr, train[target].astype(float))
        pred = model.predict(Xte)
    else:
        labels = sorted(train[target].map(label_text).unique())
        index = {l: i for i, l in enumerate(labels)}
        y = train[target].map(label_text).map(index)
        model = xgb.XGBClassifier(n_jobs=threads)
        model.fit(Xtr, y)
        pred = [labels[i] for i in model.predict(Xte)]
    return pred, time.time() - t0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(here, "..", "..", "shared", "datasets"))
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--binary", default=os.path.join(here, "..", "build", "tabpilot"))
    ap.add_argument("--out", default=os.path.join(here, "out", "compare_xgboost.json"))
    ap.add_argument("--only", nargs="*", help="dataset names")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--resume", action="store_true",
                    help="keep the datasets already in --out and run only the others")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    runs = os.path.join(os.path.dirname(args.out), "runs")
    results = []
    if args.resume and os.path.exists(args.out):
        results = [r for r in json.load(open(args.out))["results"] if "error" not in r]
    done = {r["dataset"] for r in results}
    for name in sorted(os.listdir(args.datasets)):
        if args.only and name not in args.only:
            continue
        if name in done:
            continue
        d = os.path.join(args.datasets, name)
        meta = json.load(open(os.path.join(d, "META.json")))
        target, task = meta["target"], meta["task"]
        read = dict(na_values=MISSING, keep_default_na=False, skipinitialspace=True)
        train = pd.read_csv(os.path.join(d, "train.csv"), **read)
        test = pd.read_csv(os.path.join(d, "test.csv"), **read)
        train = train[train[target].notna()]
        test = test[test[target].notna()]
        positive = None
        if task == "binary":
            counts = train[target].map(label_text).value_counts().to_dict()
            positive = positive_label(sorted(counts), counts)

        t0 = time.time()
        fit = subprocess.run([args.binary, "fit", os.path.join(d, "train.csv"), "--target", target,
                              "--output", runs, "--name", name, "--force", "--quiet",
                              "--time-limit", str(args.time_limit), "--threads", str(args.threads)],
                             capture_output=True, text=True)
        fit_s = time.time() - t0
        row = {"dataset": name, "task": task, "rows": len(train), "fit_seconds": round(fit_s, 1)}
        if fit.returncode != 0:
            row["error"] = fit.stderr.strip()[-300:]
            results.append(row)
            print(name, "FAILED", row["error"], file=sys.stderr)
            continue
        job = json.load(open(os.path.join(runs, name, "job.json")))
        row["detected"] = job["ResolvedAttributes"]["ProblemType"]
        row["trials"] = job["tabpilot"]["trials"]["completed"]
        row["best"] = job["BestCandidate"]["CandidateName"]
        pred_path = os.path.join(runs, name, "test_predictions.csv")
        subprocess.run([args.binary, "predict", os.path.join(runs, name), os.path.join(d, "test.csv"),
                        "-o", pred_path], check=True)
        pred = pd.read_csv(pred_path, keep_default_na=False)["predicted_label"].tolist()
        row["tabpilot"] = score(task, test[target].tolist(), pred, positive)
        xpred, xs = xgboost_default(train, test, target, task, args.threads)
        row["xgboost_default"] = score(task, test[target].tolist(), xpred, positive)
        row["xgboost_seconds"] = round(xs, 1)
        row["metric"] = {"regression": "MSE", "binary": "F1", "multiclass": "Accuracy"}[task]
        better = row["tabpilot"] <= row["xgboost_default"] if task == "regression" else \
            row["tabpilot"] >= row["xgboost_default"]
        row["tabpilot_at_least_as_good"] = bool(better)
        results.append(row)
        print(json.dumps(row), file=sys.stderr)
        json.dump({"time_limit": args.time_limit, "threads": args.threads, "results": results},
                  open(args.out, "w"), indent=2)

    json.dump({"time_limit": args.time_limit, "threads": args.threads, "results": results},
              open(args.out, "w"), indent=2)
    print("| dataset | task | metric | tabpilot | XGBoost default (one-hot) | at least as good | fit s (limit %g) | trials |" % args.time_limit)
    print("|---|---|---|---|---|---|---|---|")
    wins = 0
    for r in results:
        if "error" in r:
            print("| %s | %s | - | failed: %s | | | %s | |" % (r["dataset"], r["task"], r["error"], r["fit_seconds"]))
            continue
        wins += r["tabpilot_at_least_as_good"]
        print("| %s | %s | %s | %.5g | %.5g | %s | %s | %s |" % (
            r["dataset"], r["task"], r["metric"], r["tabpilot"], r["xgboost_default"],
            "yes" if r["tabpilot_at_least_as_good"] else "no", r["fit_seconds"], r["trials"]))
    print("\ntabpilot at least as good on %d of %d datasets" % (wins, len(results)))


if __name__ == "__main__":
    main()
