#!/usr/bin/env python3
"""The catalogue of bad inputs and hostile arguments (cases.txt), run through the real binary.

Every case runs in a fresh copy of one scratch folder that holds a finished job, damaged
copies of it, bad CSV files and unrelated files and folders. A case passes when:
  - the exit code is the expected one;
  - a failing command prints exactly one line on stderr, matching the case's pattern;
  - nothing in the scratch folder changed (a listing of every path with its type, link target
    and SHA-256 before and after), except under the paths the case may write. So no job
    folder is left half-written and nothing outside the output folder is touched.

usage: run_catalogue.py --binary build/tabpilot [--cases cases.txt] [--only NAME,...] [--keep DIR]
"""
import argparse
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")


def numbers(n):
    return "a,b,y\n" + "".join("%d,%d,%d\n" % (i, i * 2 % 7, i % 3) for i in range(n))


def rows(header, row, n):
    return header + "\n" + (row + "\n") * n


def wide(n):
    head = ",".join("c%d" % i for i in range(n))
    row = ",".join("1" for _ in range(n))
    return head + "\n" + row + "\n" + row + "\n"


# Files every case finds in its scratch folder, beside train.csv / test.csv (penguins).
BAD_FILES = {
    "empty.csv": b"",
    "header_only.csv": b"a,b,y\n",
    "ragged.csv": b"a,b,y\n1,2,3\n4,5\n6,7,8\n",
    "unterminated.csv": b'a,b,y\n1,"2,3\n4,5,6\n',
    "not_utf8.csv": b"a,b,y\n1,\xff\xfe,3\n",
    "nul.csv": b"a,b,y\n1,x\x00y,3\n",
    "duplicate_columns.csv": b"a,a,y\n1,2,3\n",
    "empty_name.csv": b"a,,y\n1,2,3\n",
    "numbers.csv": numbers(40).encode(),
    "few_rows.csv": numbers(5).encode(),
    "target_missing.csv": rows("a,y", "1,", 40).encode(),
    "one_class.csv": rows("a,y", "1,cat", 40).encode(),
    "inf.csv": b"a,b,y\n1,2,3\n1,inf,3\n",
    "wide10k.csv": wide(10000).encode(),
    "partial.csv": b"island,bill_length_mm\nBiscoe,40\n",
}


def build_template(binary, root):
    """The scratch folder every case starts from; returns its path."""
    t = os.path.join(root, "template")
    os.makedirs(t)
    for name in ("train.csv", "test.csv"):
        shutil.copy(os.path.join(FIXTURES, "penguins", name), os.path.join(t, name))
    for name, data in BAD_FILES.items():
        with open(os.path.join(t, name), "wb") as f:
            f.write(data)
    with open(os.path.join(t, "keep.txt"), "w") as f:
        f.write("an unrelated file: no command may change it\n")
    os.makedirs(os.path.join(t, "other"))
    with open(os.path.join(t, "other", "data.txt"), "w") as f:
        f.write("somebody else's folder\n")
    out = os.path.join(t, "out")
    os.makedirs(out)
    subprocess.run([binary, "fit", "train.csv", "--target", "species", "--output", "out",
                    "--name", "done", "--learners", "linear", "--max-candidates", "2",
                    "--threads", "1", "--quiet"], cwd=t, check=True, capture_output=True)
    subprocess.run([binary, "monitor", "baseline", "out/done"], cwd=t, check=True,
                   capture_output=True)
    shutil.copytree(os.path.join(out, "done"), os.path.join(out, "corrupt"))
    with open(os.path.join(out, "corrupt", "store.sqlite"), "wb") as f:
        f.write(b"this is not an SQLite database, it was overwritten" * 100)
    for wal in ("store.sqlite-wal", "store.sqlite-shm"):
        if os.path.exists(os.path.join(out, "corrupt", wal)):
            os.remove(os.path.join(out, "corrupt", wal))
    shutil.copytree(os.path.join(out, "done"), os.path.join(out, "tampered"))
    model = os.path.join(out, "tampered", "model")
    weights = sorted(f for f in os.listdir(model) if f.endswith(".bin"))
    with open(os.path.join(model, weights[0]), "ab") as f:
        f.write(b"x")
    os.makedirs(os.path.join(out, "notajob"))
    with open(os.path.join(out, "notajob", "notes.txt"), "w") as f:
        f.write("not a job\n")
    os.symlink(os.path.join("..", "other"), os.path.join(out, "link"))
    os.makedirs(os.path.join(t, "capture", "empty"))
    open(os.path.join(t, "capture", "empty", "requests.jsonl"), "w").close()
    # SageMaker /opt/ml folders: optml's hyperparameters hold an unknown key, optml2's are good.
    for folder, hyperparameters in (("optml", '{"target": "species", "no_such_key": "1"}'),
                                    ("optml2", '{"target": "species", "max_candidates": "1"}')):
        config = os.path.join(t, folder, "input", "config")
        os.makedirs(config)
        with open(os.path.join(config, "hyperparameters.json"), "w") as f:
            f.write(hyperparameters)
        with open(os.path.join(config, "inputdataconfig.json"), "w") as f:
            f.write('{"train": {"ContentType": "text/csv"}}')
        os.makedirs(os.path.join(t, folder, "input", "data", "train"))
        shutil.copy(os.path.join(t, "train.csv"), os.path.join(t, folder, "input", "data", "train"))
    return t


def listing(root):
    """path -> (kind, detail) for everything below root, links not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", "")
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", hashlib.sha256(f.read()).hexdigest())
    return out


def parse_cases(path):
    cases = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) != 5:
            raise SystemExit("%s:%d: expected 5 fields separated by ' | ', got %d" % (path, n, len(parts)))
        name, code, pattern, may_write, command = parts
        cases.append({"name": name, "code": int(code), "pattern": pattern, "line": n,
                      "may_write": [] if may_write == "-" else may_write.split(","),
                      "command": command})
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        raise SystemExit("%s: case names repeat" % path)
    return cases


def run_case(binary, template, work, case):
    """Returns a list of problems (empty when the case passes)."""
    scratch = os.path.join(work, case["name"])
    shutil.copytree(template, scratch, symlinks=True)
    before = listing(scratch)
    words = shlex.split(case["command"])
    env = dict(os.environ)
    env.pop("TRAINING_JOB_NAME", None)
    while words and re.match(r"^[A-Z_]+=", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    try:
        proc = subprocess.run([binary] + words, cwd=scratch, env=env, capture_output=True,
                              text=True, errors="replace", timeout=120)
    except subprocess.TimeoutExpired:
        return ["did not end within 120 s"]
    problems = []
    if proc.returncode != case["code"]:
        problems.append("exit %d, expected %d" % (proc.returncode, case["code"]))
    err_lines = proc.stderr.splitlines()
    if case["code"] != 0:
        if len(err_lines) != 1:
            problems.append("%d lines on stderr, expected 1" % len(err_lines))
        if not re.search(case["pattern"], proc.stderr):
            problems.append("stderr does not match /%s/" % case["pattern"])
    elif case["pattern"] != "-" and not re.search(case["pattern"], proc.stderr + proc.stdout):
        problems.append("output does not match /%s/" % case["pattern"])
    after = listing(scratch)
    allowed = case["may_write"]

    def may(path):
        return any(path == a or fnmatch.fnmatch(path, a) or path.startswith(a.rstrip("*") + "/")
                   for a in allowed)
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and not may(p))
    if changed:
        problems.append("changed outside what it may write: " + ", ".join(changed[:8]) +
                        (" ..." if len(changed) > 8 else ""))
    if problems:
        problems.append("stderr: " + proc.stderr.strip()[:600])
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.txt"))
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--keep", help="keep the scratch folders here")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    cases = parse_cases(args.cases)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c["name"] in wanted]
    root = args.keep or tempfile.mkdtemp(prefix="tabpilot-catalogue-")
    os.makedirs(root, exist_ok=True)
    try:
        template = build_template(binary, root)
        failed = 0
        for case in cases:
            problems = run_case(binary, template, os.path.join(root, "cases"), case)
            status = "ok  " if not problems else "FAIL"
            print("%s %-32s %s" % (status, case["name"], case["command"]))
            for p in problems:
                print("       " + p)
            failed += bool(problems)
        print("%d of %d cases passed" % (len(cases) - failed, len(cases)))
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
