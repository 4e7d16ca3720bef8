#!/usr/bin/env python3
"""pandas.read_csv throughput on the bench_csv input: the peer figure for BM_ReadCsv.

Usage: pandas_read_csv.py [PATH]   (default $TMPDIR/tabpilot_bench_csv.csv, as bench_csv)
If PATH is absent it is generated with the same splitmix64 stream and formatting as
bench/bench_csv.cpp, so both read identical bytes. Prints one JSON object: best of 3.
"""
import json
import os
import platform
import sys
import tempfile
import time

FLOAT_COLUMNS, INT_COLUMNS, CAT_COLUMNS = 16, 4, 3
TARGET_BYTES = 100 << 20
WORDS = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white"]
MASK = (1 << 64) - 1


def splitmix64(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def generate(path):
    header = ([f"f{c}" for c in range(FLOAT_COLUMNS)] + [f"i{c}" for c in range(INT_COLUMNS)] +
              [f"c{c}" for c in range(CAT_COLUMNS)])
    rng = splitmix64(42)
    ncols = len(header)
    lines = [",".join(header) + "\n"]
    size = len(lines[0])
    while size < TARGET_BYTES:
        cells = []
        for c in range(ncols):
            r = next(rng)
            if r % 50 == 0:
                cells.append("")
            elif c < FLOAT_COLUMNS:
                u = (r >> 11) / 9007199254740992.0
                cells.append("%.4f" % ((u * 2 - 1) * 1000))
            elif c < FLOAT_COLUMNS + INT_COLUMNS:
                cells.append(str((r >> 8) % 100000))
            else:
                cells.append(WORDS[(r >> 8) % 8])
        line = ",".join(cells) + "\n"
        lines.append(line)
        size += len(line)
    with open(path, "w", newline="") as f:
        f.writelines(lines)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(),
                                                             "tabpilot_bench_csv.csv")
    if not os.path.exists(path):
        generate(path)
    import pandas as pd

    size = os.path.getsize(path)
    times, cpu_times = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        frame = pd.read_csv(path)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    best = min(times)
    print(json.dumps({
        "peer": "pandas.read_csv",
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "path": path,
        "file_MB": round(size / 1e6, 3),
        "rows": int(frame.shape[0]),
        "best_s": round(best, 4),
        "MB_per_s": round(size / 1e6 / best, 1),
        # CPU time as well: on a shared machine it is the fairer figure to compare.
        "cpu_MB_per_s": round(size / 1e6 / min(cpu_times), 1),
    }))


if __name__ == "__main__":
    main()
