#!/usr/bin/env python3
"""bench/serve: `tabpilot serve` against a minimal Python endpoint (python_server.py) serving
the same XGBoost model, on loopback, in one run. Writes bench/results/serve-<UTC time>.json.

  1. single-row requests at a fixed 500 requests/s (loadgen.cpp: open loop, latency from the
     scheduled send time) -> p50/p99;
  2. single-row requests at the maximum rate (wrk, 16 connections, closed loop) -> requests/s;
  3. 1,000-row batches (wrk, 2 connections) -> rows/s;
  4. memory: the C++ endpoint under fixed-rate load for --memory-seconds while its RSS is
     sampled every second; a flat line (no growth trend) and zero failed requests pass.
The load generators run on the same cores as the servers; the load average is recorded.

Usage: run_bench.py [--job DIR] [--memory-seconds 60] [--threads 2]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from portable_paths import portable  # noqa: E402
OUT = os.path.join(ROOT, "bench", "out", "serve")
# ../shared/datasets beside the repository, or $TABPILOT_DATASETS.
DATA = os.path.join(os.environ.get("TABPILOT_DATASETS",
                                   os.path.join(ROOT, "..", "shared", "datasets")),
                    "california_housing")
TARGET = "median_house_value"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def wait_ping(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % port, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise SystemExit("server on port %d did not answer /ping" % port)


def last_json(text):
    return json.loads([l for l in text.splitlines() if l.startswith("{")][-1])


def loadgen(port, rate, seconds, body, connections=8):
    r = subprocess.run([os.path.join(OUT, "loadgen"), str(port), str(rate), str(seconds),
                        str(connections), body], capture_output=True, text=True)
    return last_json(r.stdout)


def wrk(port, body, seconds, connections):
    out = sh(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "-s",
              os.path.join(ROOT, "bench", "serve", "wrk_post.lua"),
              "http://127.0.0.1:%d/invocations" % port], env=dict(os.environ, BODY_FILE=body))
    r = last_json(out)
    r["requests_per_s"] = r["requests"] / r["duration_s"]
    return r


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slope_per_min(samples):
    n = len(samples)
    if n < 2:
        return 0.0
    xs = range(n)
    mx, my = (n - 1) / 2, sum(samples) / n
    num = sum((x - mx) * (y - my) for x, y in zip(xs, samples))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den * 60


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", default=os.path.join(OUT, "california-xgboost"))
    ap.add_argument("--memory-seconds", type=int, default=60)
    ap.add_argument("--latency-seconds", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    binary = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"), "tabpilot")
    sh(["g++", "-std=c++20", "-O2", "-pthread", os.path.join(ROOT, "bench", "serve", "loadgen.cpp"),
        "-o", os.path.join(OUT, "loadgen")])
    if not os.path.exists(os.path.join(args.job, "model", "model.json")):
        sh([binary, "fit", os.path.join(DATA, "train.csv"), "--target", TARGET, "--output",
            os.path.dirname(args.job), "--name", os.path.basename(args.job), "--learners", "xgboost",
            "--max-candidates", "3", "--time-limit", "60", "--force", "--quiet"])
    # Request bodies: test rows without the target, headerless.
    import csv
    rows = list(csv.reader(open(os.path.join(DATA, "test.csv"))))
    t = rows[0].index(TARGET)
    line = lambda r: ",".join(v for i, v in enumerate(r) if i != t) + "\n"
    one, batch = os.path.join(OUT, "one.csv"), os.path.join(OUT, "batch1000.csv")
    open(one, "w").write(line(rows[1]))
    open(batch, "w").write("".join(line(r) for r in rows[1:1001]))

    cpp_port, py_port = 18480, 18481
    cpp = subprocess.Popen([binary, "serve", args.job, "--port", str(cpp_port), "--threads",
                            str(args.threads)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    py = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "serve", "python_server.py"),
                           os.path.join(args.job, "model"), str(py_port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": "%s, %d cores" % (os.uname().nodename, os.cpu_count()),
              "command": " ".join(sys.argv), "model": args.job, "server_threads": args.threads,
              "load_average_start": os.getloadavg()}
    try:
        wait_ping(cpp_port)
        wait_ping(py_port)
        # Same answers first: the comparison is only fair if both compute the same thing.
        body = open(batch, "rb").read()
        answers = []
        for port in (cpp_port, py_port):
            req = urllib.request.Request("http://127.0.0.1:%d/invocations" % port, data=body,
                                         headers={"Content-Type": "text/csv"})
            answers.append([float(x) for x in urllib.request.urlopen(req).read().split()])
        result["max_relative_difference_cpp_vs_python"] = max(
            abs(a - b) / max(1.0, abs(a)) for a, b in zip(*answers))
        for name, port in (("tabpilot", cpp_port), ("python", py_port)):
            r = result.setdefault(name, {})
            loadgen(port, 100, 2, one)  # warm-up
            r["single_row_500rps"] = loadgen(port, 500, args.latency_seconds, one)
            r["single_row_max_rate"] = wrk(port, one, 10, 16)
            b = wrk(port, batch, 10, 2)
            b["rows_per_s"] = b["requests_per_s"] * 1000
            r["batch_1000_rows"] = b
        result["batch_speedup"] = (result["tabpilot"]["batch_1000_rows"]["rows_per_s"] /
                                   result["python"]["batch_1000_rows"]["rows_per_s"])
        py.terminate()
        # Memory: the highest fixed rate the endpoint sustained above, less a margin.
        rate = int(result["tabpilot"]["single_row_max_rate"]["requests_per_s"] * 0.7)
        gen = subprocess.Popen([os.path.join(OUT, "loadgen"), str(cpp_port), str(rate),
                                str(args.memory_seconds), "8", one], stdout=subprocess.PIPE, text=True)
        samples = []
        while gen.poll() is None:
            samples.append(rss_kb(cpp.pid))
            time.sleep(1)
        run = last_json(gen.stdout.read())
        half = samples[len(samples) // 2:]
        result["memory"] = {"rate": rate, "seconds": args.memory_seconds, "load": run,
                            "rss_kb_first": samples[0], "rss_kb_last": samples[-1],
                            "rss_kb_max": max(samples),
                            "rss_slope_kb_per_min_second_half": slope_per_min(half),
                            "rss_kb_samples": samples}
    finally:
        for p in (cpp, py):
            p.terminate()
        cpp.wait(timeout=30)
    result["load_average_end"] = os.getloadavg()
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results",
                        "serve-%s.json" % datetime.datetime.utcnow().strftime("%Y%m%d-%H%M%S"))
    json.dump(portable(result), open(path, "w"), indent=1)
    brief = {k: v for k, v in result.items() if k != "memory"}
    brief["memory"] = {k: v for k, v in result["memory"].items() if k != "rss_kb_samples"}
    print(json.dumps(brief, indent=1))
    print("bench/serve: wrote", path)


if __name__ == "__main__":
    main()
