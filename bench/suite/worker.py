"""One (system, dataset) run; started by run.py in its own process, pinned to the benchmark
cores. Writes a JSON result (score, timings, versions) to --out; run.py adds the wall time,
peak memory and kill status. Writes its phase ("fit <epoch>", "predict <epoch>") to
--phase-file so that run.py can enforce the time limit on the fit alone.
"""
import argparse
import json
import os
import platform
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import systems  # noqa: E402
from tasks import Dataset  # noqa: E402


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", required=True)
    ap.add_argument("--dataset-dir", required=True)
    ap.add_argument("--time-limit", type=float, required=True)
    ap.add_argument("--cores", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tabpilot", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--phase-file", required=True)
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    ds = Dataset(args.dataset_dir)

    def phase(name):
        write_atomic(args.phase_file, "%s %.3f\n" % (name, time.time()))

    budget = systems.Budget(args.time_limit, args.cores, args.seed, args.workdir, args.tabpilot, phase)
    row = {"system": args.system, "dataset": ds.name, "task": ds.task, "metric": ds.metric,
           "time_limit": args.time_limit, "cores": args.cores, "seed": args.seed,
           "train_rows": len(ds.train), "test_rows": len(ds.test),
           "constant_score": ds.constant_score(),
           "python": platform.python_version()}
    try:
        fit = systems.run(args.system, ds, budget)
    except Exception as e:  # a failing system is a result, not a crash of the suite
        row.update(status="failed", error=("%s: %s" % (type(e).__name__, e))[-600:],
                   traceback=traceback.format_exc()[-2000:])
        write_atomic(args.out, json.dumps(row, indent=2))
        return 0
    import numpy, pandas
    row.update(status="ok", score=ds.score(fit.predictions),
               fit_seconds=round(fit.fit_seconds, 2), predict_seconds=round(fit.predict_seconds, 3),
               versions=dict(fit.versions, numpy=numpy.__version__, pandas=pandas.__version__),
               extras=fit.extras)
    write_atomic(args.out, json.dumps(row, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
