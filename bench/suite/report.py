#!/usr/bin/env python3
"""Tables, chart and target checks from bench/suite/results/<budget>/<system>/<dataset>.json.

usage: python3 bench/suite/report.py [--budget 60] [--results DIR]

Normalised score of a system on a dataset = (score - constant) / (best - constant): 0 is the
best constant predictor fitted on train (tasks.Dataset.constant_score), 1 is the best system
in the results on that dataset; the formula needs no sign flip for MSE since best - constant
is then negative too. A failed or killed run counts as the constant predictor (0). The
overall figure is the mean over datasets. Writes results/<budget>/report.md and chart.svg
and prints the report.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from chart import grouped_bars  # noqa: E402
from tasks import better, normalised  # noqa: E402

ORDER = ["tabpilot", "tabpilot-random", "tabpilot-tpe", "tabpilot-no-ensemble",
         "tabpilot-ens-objective", "flaml",
         "autogluon-medium", "autogluon-best", "xgboost", "lightgbm"]


def load(folder):
    rows = {}
    for system in sorted(os.listdir(folder)):
        if not os.path.isdir(os.path.join(folder, system)):
            continue
        for name in sorted(os.listdir(os.path.join(folder, system))):
            if name.endswith(".json"):
                row = json.load(open(os.path.join(folder, system, name)))
                rows[(system, row["dataset"])] = row
    return rows


class Table:
    """Scores and normalised scores of one budget."""

    def __init__(self, rows):
        self.rows = rows
        present = {s for s, _ in rows}
        self.systems = [s for s in ORDER if s in present] + sorted(present - set(ORDER))
        self.datasets = sorted({d for _, d in rows})
        self.info, self.norm = {}, {}
        for d in self.datasets:
            mine = [r for (s, dd), r in rows.items() if dd == d]
            known = [r for r in mine if "constant_score" in r]
            if not known:
                continue  # every run killed before it scored: nothing to normalise against
            first = known[0]
            scores = [r["score"] for r in mine if r.get("status") == "ok"]
            best = None
            for v in scores:
                if best is None or better(first["metric"], v, best):
                    best = v
            self.info[d] = {"task": first["task"], "metric": first["metric"],
                            "constant": first["constant_score"], "best": best}
            for r in mine:
                value = r["score"] if r.get("status") == "ok" else None
                self.norm[(r["system"], d)] = normalised(first["metric"], value,
                                                         first["constant_score"],
                                                         first["constant_score"] if best is None else best)
        self.datasets = [d for d in self.datasets if d in self.info]

    def mean(self, system, datasets=None):
        values = [self.norm[(system, d)] for d in (datasets or self.datasets) if (system, d) in self.norm]
        return sum(values) / len(values) if values else None

    def common(self, *systems):
        return [d for d in self.datasets if all((s, d) in self.norm for s in systems)]


def markdown(t, budget):
    lines = ["Budget %g s per fit. Each cell: test score (normalised score)." % budget, "",
             "| dataset | task | metric | constant | " + " | ".join(t.systems) + " |",
             "|---|---|---|---|" + "---|" * len(t.systems)]
    for d in t.datasets:
        info = t.info[d]
        cells = []
        for s in t.systems:
            r = t.rows.get((s, d))
            if r is None:
                cells.append("n/a")
            elif r.get("status") != "ok":
                cells.append("%s (0)" % r.get("status"))
            else:
                mark = "**" if r["score"] == info["best"] else ""
                cells.append("%s%.4g%s (%.3f)" % (mark, r["score"], mark, t.norm[(s, d)]))
        lines.append("| %s | %s | %s | %.4g | %s |" % (d, info["task"], info["metric"],
                                                        info["constant"], " | ".join(cells)))
    means = []
    for s in t.systems:
        m = t.mean(s)
        n = len([d for d in t.datasets if (s, d) in t.norm])
        means.append("n/a" if m is None else "**%.3f** (%d)" % (m, n))
    lines.append("| **normalised mean** (datasets) | | | | %s |" % " | ".join(means))
    lines += ["", "| system | runs | ok | killed | failed | mean fit s | max fit s | mean predict s | max peak RSS MB |",
              "|---|---|---|---|---|---|---|---|---|"]
    for s in t.systems:
        mine = [r for (ss, _), r in t.rows.items() if ss == s]
        ok = [r for r in mine if r.get("status") == "ok"]
        fits = [r["fit_seconds"] for r in mine if "fit_seconds" in r]
        preds = [r["predict_seconds"] for r in ok if "predict_seconds" in r]
        rss = [r["peak_rss_mb"] for r in mine if "peak_rss_mb" in r]
        lines.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s |" % (
            s, len(mine), len(ok), sum(r.get("status") == "killed" for r in mine),
            sum(r.get("status") == "failed" for r in mine),
            "%.1f" % (sum(fits) / len(fits)) if fits else "-", "%.1f" % max(fits) if fits else "-",
            "%.2f" % (sum(preds) / len(preds)) if preds else "-", "%.0f" % max(rss) if rss else "-"))
    return "\n".join(lines) + "\n"


def provenance(t, budget):
    """Commands, machine, versions and load, from the result files themselves."""
    rows = list(t.rows.values())
    versions = {}
    for r in rows:
        for k, v in r.get("versions", {}).items():
            versions.setdefault(k, set()).add(v)
    commits = sorted({"%s%s" % (r["tabpilot_git"]["commit"][:7], "+dirty" if r["tabpilot_git"]["dirty"] else "")
                      for r in rows if "tabpilot_git" in r})
    machines = sorted({"%s, %s CPUs online, pinned to cores %s" % (r["machine"]["cpu"], r["machine"]["cpus_online"],
                                                                  r.get("taskset")) for r in rows if "machine" in r})
    loads = [r["load_average_before"][0] for r in rows if "load_average_before" in r]
    dates = sorted(r["finished"] for r in rows if "finished" in r)
    commands = sorted({r["command"] for r in rows if "command" in r})
    lines = ["Commands: %s; then `python3 bench/suite/report.py --budget %g`." % (
                 ", ".join("`python3 %s`" % c for c in commands) or "unknown", budget),
             "Machine: %s." % "; ".join(machines or ["unknown"]),
             "Runs finished %s to %s; 1-minute load average at the start of a run %s." % (
                 dates[0] if dates else "?", dates[-1] if dates else "?",
                 "%.1f to %.1f" % (min(loads), max(loads)) if loads else "unknown"),
             "tabpilot commit: %s. Versions: %s." % (", ".join(commits) or "unknown", ", ".join(
                 "%s %s" % (k, "/".join(sorted(v))) for k, v in sorted(versions.items())))]
    return "\n".join(lines) + "\n"


def checks(t, budget):
    """The issue's targets, as lines 'PASS|FAIL|n/a: ...'."""
    out = []

    def compare_means(a, b, strict, target):
        common = t.common(a, b)
        if not common:
            out.append("n/a : %s vs %s: no common datasets (%s)" % (a, b, target))
            return
        ma, mb = t.mean(a, common), t.mean(b, common)
        ok = ma > mb if strict else ma >= mb
        out.append("%s: %s normalised mean %.3f %s %s %.3f on %d datasets (%s)" % (
            "PASS" if ok else "FAIL", a, ma, ">" if strict else ">=", b, mb, len(common), target))

    compare_means("tabpilot", "flaml", False, "target at 60 s")
    compare_means("tabpilot", "autogluon-medium", False, "target at 60 s")
    common = t.common("tabpilot", "autogluon-best")
    if common:
        wins = []
        for d in common:
            a, b = t.rows[("tabpilot", d)], t.rows[("autogluon-best", d)]
            if a.get("status") == "ok" and (b.get("status") != "ok" or
                                            better(t.info[d]["metric"], a["score"], b["score"])):
                wins.append(d)
        ok = 2 * len(wins) >= len(common)
        out.append("%s: tabpilot at least matches autogluon-best on %d of %d datasets (%s) "
                   "(target at 300 s)" % ("PASS" if ok else "FAIL", len(wins), len(common),
                                          ", ".join(wins) or "none"))
    else:
        out.append("n/a : tabpilot vs autogluon-best: no common datasets (target at 300 s)")
    samplers = sorted({str(r.get("extras", {}).get("sampler")) for (s, _), r in t.rows.items()
                       if s == "tabpilot" and r.get("status") == "ok"})
    present = {s for (s, _) in t.rows}
    # Each side of TPE vs random: its own column, else "tabpilot" when that ran the sampler.
    tpe = "tabpilot-tpe" if "tabpilot-tpe" in present else "tabpilot" if samplers == ["tpe"] else None
    rnd = ("tabpilot-random" if "tabpilot-random" in present
           else "tabpilot" if samplers == ["random"] else None)
    if tpe and rnd:
        compare_means(tpe, rnd, True, "TPE beats random search, target at 60 and 300 s")
    else:
        out.append("n/a : TPE vs random: no column for one of them (target at 60 and 300 s)")
    for other, what in (("tabpilot-no-ensemble", "ensemble selection on %.3f vs off %.3f"),
                        ("tabpilot-ens-objective", "ensemble selection on the log loss (auto) %.3f "
                                                   "vs on the objective %.3f")):
        common = t.common("tabpilot", other) if other in present else []
        if common:
            out.append(("INFO: " + what + " on %d datasets (picks the default)") % (
                t.mean("tabpilot", common), t.mean(other, common), len(common)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, action="append",
                    help="seconds (repeatable; default: every folder under --results)")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    budgets = args.budget or sorted(float(b) for b in os.listdir(args.results)
                                    if b.replace(".", "", 1).isdigit())
    for budget in budgets:
        folder = os.path.join(args.results, "%g" % budget)
        t = Table(load(folder))
        text = "## %g s\n\n%s\n%s\n![chart](chart.svg)\n\n```\n%s\n```\n" % (
            budget, provenance(t, budget), markdown(t, budget), "\n".join(checks(t, budget)))
        groups = t.datasets + ["mean (%d datasets)" % len(t.datasets)]
        values = dict(t.norm)
        for s in t.systems:
            values[(s, groups[-1])] = t.mean(s)
        notes = {(s, d): r["status"] for (s, d), r in t.rows.items() if r.get("status") != "ok"}
        svg = grouped_bars(groups, t.systems, values,
                           "tabpilot vs peers, %g s per fit, same 2 cores" % budget, notes=notes,
                           palette=ORDER)
        for name, content in (("report.md", text), ("chart.svg", svg)):
            with open(os.path.join(folder, name + ".tmp"), "w") as f:
                f.write(content)
            os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name))
        print(text)
        print("wrote %s/report.md and chart.svg\n" % folder)


if __name__ == "__main__":
    main()
