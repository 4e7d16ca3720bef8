#!/usr/bin/env python3
"""tabpilot against FLAML, AutoGluon, XGBoost and LightGBM on ../shared/datasets.

usage: python3 bench/suite/run.py --time-limit 60 [--datasets a,b] [--systems s1,s2] [--resume]

Each (system, dataset) runs in its own process (worker.py) under `taskset -c <cores>`, with
the systems told to use that many threads. The fit is killed when it overruns the budget by
more than 10% + 10 s, and the run is recorded as "killed". Results go to
bench/suite/results/<budget>/<system>/<dataset>.json; --resume skips the ones already there
(finished or killed; failed ones are run again). Peers run under bench/suite/.venv's Python
when it exists (bench/suite/setup.sh makes it).
"""
import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

# Standard library only: the workers are forked from this process, and a child's ru_maxrss
# starts from its parent's size, so a heavy parent (pandas) would inflate every peak RSS.
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "bench"))
from portable_paths import portable  # noqa: E402  (standard library only, like this file)

# systems.SYSTEMS (which needs pandas), repeated; test_suite.py checks that they agree.
SYSTEMS = ["tabpilot", "tabpilot-random", "tabpilot-tpe", "tabpilot-no-ensemble",
           "tabpilot-ens-objective", "flaml", "autogluon-medium", "autogluon-best", "xgboost",
           "lightgbm"]
STARTUP_LIMIT_S = 180  # imports + reading the data, before the fit starts


def fit_kill_after(budget):
    return 1.1 * budget + 10


def predict_kill_after(budget):
    return max(60.0, budget / 2)


def default_tabpilot():
    for build in ("build-mlpgpu-off", "build"):
        path = os.path.join(REPO, build, "tabpilot")
        if os.path.exists(path):
            return path
    return os.path.join(REPO, "build", "tabpilot")


def default_python():
    venv = os.path.join(HERE, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def process_tree(root):
    """root and all its descendants, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def tree_rss_bytes(root, seen):
    """Resident memory of root's process tree; adds (pid, start time) of each to seen."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in process_tree(root):
        try:
            with open("/proc/%d/statm" % pid) as f:
                total += int(f.read().split()[1]) * page
            seen.add((pid, start_time(pid)))
        except OSError:
            pass
    return total


def kill_leftovers(seen):
    """SIGKILL processes of the run that outlived it (ray daemons start their own sessions);
    only those still having the pid and start time that were seen in the tree."""
    left = 0
    for pid, started in seen:
        if started is not None and start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
                left += 1
            except OSError:
                pass
    return left


def read_phase(path):
    try:
        name, when = open(path).read().split()
        return name, float(when)
    except (OSError, ValueError):
        return None, None


def list_datasets(root, names=None):
    found = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "META.json")))
    if names:
        missing = [n for n in names if n not in found]
        if missing:
            raise SystemExit("unknown dataset(s): %s (have: %s)" % (", ".join(missing), ", ".join(found)))
        found = [n for n in found if n in names]
    return found


def tabpilot_has_sampler(binary):
    help_text = subprocess.run([binary, "fit", "--help"], capture_output=True, text=True).stdout
    return "--sampler" in help_text


PEER_MODULES = {"flaml": "flaml", "autogluon-medium": "autogluon.tabular",
                "autogluon-best": "autogluon.tabular", "xgboost": "xgboost", "lightgbm": "lightgbm"}


def check_peers(python, systems):
    """Fails early when --python cannot import a requested peer."""
    modules = sorted({PEER_MODULES[s] for s in systems if s in PEER_MODULES} | {"pandas"})
    r = subprocess.run([python, "-c", "import " + ", ".join(modules)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("%s cannot import %s: %s\nrun bench/suite/setup.sh (or pass --python)" % (
            python, ", ".join(modules), r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "?"))


def git_state():
    def git(*args):
        r = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True)
        return r.stdout.strip()
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "cpu": model, "cpus_online": os.cpu_count()}


def watch(proc, budget, start, phase_file, seen):
    """Waits for the worker, sampling its tree's memory and killing it past the limits."""
    peak, killed, status, rusage = 0, None, None, None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss_bytes(proc.pid, seen))
        now = time.time()
        name, since = read_phase(phase_file)
        if name is None and now - start > STARTUP_LIMIT_S:
            killed = "start-up took over %d s" % STARTUP_LIMIT_S
        elif name == "fit" and now - since > fit_kill_after(budget):
            killed = "fit ran past %.0f s (limit %g s + 10%% + 10 s)" % (fit_kill_after(budget), budget)
        elif name == "predict" and now - since > predict_kill_after(budget):
            killed = "predict ran past %.0f s" % predict_kill_after(budget)
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.5)
    return peak, killed, status, rusage


def run_one(args, system, dataset, out_path):
    """Runs worker.py for one pair, enforcing the limits; returns the result dict."""
    budget = args.time_limit
    work = os.path.join(args.work, "%g" % budget, system, dataset)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    worker_out = os.path.join(work, "result.json")
    phase_file = os.path.join(work, "phase")
    cmd = ["taskset", "-c", args.cores, args.python, os.path.join(HERE, "worker.py"),
           "--system", system, "--dataset-dir", os.path.join(args.data, dataset),
           "--time-limit", "%g" % budget, "--cores", str(args.n_cores), "--seed", str(args.seed),
           "--workdir", os.path.join(work, "scratch"), "--tabpilot", args.tabpilot,
           "--out", worker_out, "--phase-file", phase_file]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.n_cores), PYTHONUNBUFFERED="1")
    load_before = os.getloadavg()
    log = open(os.path.join(work, "worker.log"), "w")
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    seen = set()
    try:
        peak, killed, status, rusage = watch(proc, budget, start, phase_file, seen)
    except BaseException:  # Ctrl-C: the worker has its own session, so take it down too
        os.killpg(proc.pid, signal.SIGKILL)
        kill_leftovers(seen)
        raise
    wall = time.time() - start
    log.close()
    leftovers = kill_leftovers(seen)
    # ru_maxrss (KiB) covers the worker and the descendants it waited for (tabpilot).
    peak = max(peak, rusage.ru_maxrss * 1024)
    row = {"system": system, "dataset": dataset, "time_limit": budget}
    if not killed and os.path.exists(worker_out):
        row.update(json.load(open(worker_out)))
    else:
        tail = open(os.path.join(work, "worker.log")).read()[-600:]
        row.update(status="killed" if killed else "failed", score=None,
                   error=killed or "worker exit status %d without a result: %s" % (status, tail))
        _, fit_started = read_phase(phase_file)
        if killed and fit_started:
            row["fit_seconds"] = round(time.time() - fit_started, 2)
    row.update(wall_seconds=round(wall, 2), leftover_processes_killed=leftovers, peak_rss_mb=round(peak / 2**20, 1),
               kill_limit_fit_seconds=fit_kill_after(budget), cores=args.n_cores,
               taskset=args.cores, load_average_before=load_before,
               load_average_after=os.getloadavg(), finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               machine=machine(), tabpilot_git=args.git, command=" ".join(sys.argv))
    row = portable(row, [args.data, REPO])  # no machine's folders in committed results
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(row, f, indent=2, default=str)
    os.replace(tmp, out_path)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, required=True, help="seconds per fit")
    ap.add_argument("--datasets", help="comma-separated names (default: all)")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, from: " + ",".join(SYSTEMS))
    ap.add_argument("--resume", action="store_true", help="skip pairs that already have a result")
    ap.add_argument("--cores", default="0,1", help="taskset CPU list every system is pinned to")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=os.path.normpath(os.path.join(REPO, "..", "shared", "datasets")))
    ap.add_argument("--tabpilot", default=default_tabpilot())
    ap.add_argument("--python", default=default_python(), help="interpreter with the peers installed")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"), help="scratch folders (models, logs)")
    ap.add_argument("--keep-work", action="store_true", help="keep models and worker logs")
    args = ap.parse_args()

    if shutil.which("taskset") is None:
        raise SystemExit("taskset not found (util-linux)")
    args.n_cores = len(os.sched_getaffinity(0) & set(_cpu_list(args.cores)))
    if args.n_cores != len(_cpu_list(args.cores)):
        raise SystemExit("--cores %s: not all of these CPUs are available" % args.cores)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise SystemExit("unknown system(s): %s (known: %s)" % (", ".join(unknown), ", ".join(SYSTEMS)))
    if any(s.startswith("tabpilot") for s in systems) and not os.access(args.tabpilot, os.X_OK):
        raise SystemExit("%s: no tabpilot binary (build the tabpilot_cli target or pass --tabpilot)" % args.tabpilot)
    if "tabpilot-random" in systems and not tabpilot_has_sampler(args.tabpilot):
        print("skipping tabpilot-random: %s fit has no --sampler option" % args.tabpilot, file=sys.stderr)
        systems.remove("tabpilot-random")
    check_peers(args.python, systems)
    names = list_datasets(args.data, args.datasets.split(",") if args.datasets else None)
    args.git = git_state()

    todo = []
    for dataset in names:
        for system in systems:
            out = os.path.join(args.results, "%g" % args.time_limit, system, dataset + ".json")
            if args.resume and os.path.exists(out) and \
                    json.load(open(out)).get("status") in ("ok", "killed"):
                continue
            todo.append((system, dataset, out))
    budgeted = sum(1 for s, _, _ in todo if s not in ("xgboost", "lightgbm"))
    print("%d runs (%d with the %g s budget): at most ~%.0f min" % (
        len(todo), budgeted, args.time_limit,
        (budgeted * (args.time_limit + 20) + (len(todo) - budgeted) * 30) / 60), file=sys.stderr)
    for i, (system, dataset, out) in enumerate(todo, 1):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        row = run_one(args, system, dataset, out)
        print("[%d/%d] %-16s %-24s %-7s %s=%s fit %ss wall %ss rss %s MB%s" % (
            i, len(todo), system, dataset, row["status"], row.get("metric", "score"),
            "-" if row.get("score") is None else "%.5g" % row["score"], row.get("fit_seconds", "-"),
            row["wall_seconds"], row["peak_rss_mb"],
            "" if row["status"] == "ok" else "  (%s)" % row.get("error", "")[:200]), file=sys.stderr)


def _cpu_list(text):
    cpus = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            cpus.extend(range(int(a), int(b) + 1))
        else:
            cpus.append(int(part))
    return cpus


if __name__ == "__main__":
    main()
