"""Checks of the suite's arithmetic on hand-made data (python3 -m unittest bench/suite/test_suite.py).

The oracles are numbers worked out by hand in the comments, not the code under test."""
import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chart import grouped_bars  # noqa: E402
from report import Table, checks  # noqa: E402
from tasks import Dataset, normalised  # noqa: E402


def make_dataset(root, name, task, target, train_rows, test_rows, header):
    folder = os.path.join(root, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "META.json"), "w") as f:
        json.dump({"name": name, "task": task, "target": target}, f)
    for file, rows in (("train.csv", train_rows), ("test.csv", test_rows)):
        with open(os.path.join(folder, file), "w") as f:
            f.write(header + "\n" + "\n".join(rows) + "\n")
    return Dataset(folder)


class ConstantPredictor(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_regression_uses_the_train_mean(self):
        # train mean of y = (1+2+3+6)/4 = 3; test y = 3, 5 -> MSE = (0 + 4) / 2 = 2
        ds = make_dataset(self.tmp.name, "r", "regression", "y",
                          ["0,1", "0,2", "0,3", "0,6"], ["0,3", "0,5"], "x,y")
        self.assertAlmostEqual(ds.constant_score(), 2.0)

    def test_binary_f1_predicts_the_positive_class(self):
        # positives "yes" (tabpilot's rule: a true-like label); test has 1 yes of 4:
        # all-yes -> tp 1, fp 3 -> F1 = 2/(2+3) = 0.4
        ds = make_dataset(self.tmp.name, "b", "binary", "c",
                          ["1,yes", "2,no", "3,no"], ["1,yes", "2,no", "3,no", "4,no"], "x,c")
        self.assertEqual(ds.positive, "yes")
        self.assertAlmostEqual(ds.constant_score(), 0.4)

    def test_multiclass_uses_the_train_majority(self):
        # train majority "a"; test a, b, b -> accuracy 1/3
        ds = make_dataset(self.tmp.name, "m", "multiclass", "c",
                          ["1,a", "2,a", "3,b", "4,c"], ["1,a", "2,b", "3,b"], "x,c")
        self.assertAlmostEqual(ds.constant_score(), 1 / 3)

    def test_rows_without_target_are_not_scored(self):
        ds = make_dataset(self.tmp.name, "g", "regression", "y",
                          ["0,1", "0,3"], ["0,2", "0,", "0,4"], "x,y")
        self.assertEqual(list(ds.test_mask), [True, False, True])
        self.assertAlmostEqual(ds.score([2.0, 4.0]), 0.0)


class Normalised(unittest.TestCase):
    def test_higher_is_better(self):
        # constant 0.5, best 0.9: 0.7 is half way
        self.assertAlmostEqual(normalised("Accuracy", 0.7, 0.5, 0.9), 0.5)

    def test_lower_is_better_needs_no_sign_flip(self):
        # MSE constant 10, best 2: 4 closes 6 of the 8 -> 0.75; 12 is worse than constant
        self.assertAlmostEqual(normalised("MSE", 4.0, 10.0, 2.0), 0.75)
        self.assertAlmostEqual(normalised("MSE", 12.0, 10.0, 2.0), -0.25)

    def test_failed_run_counts_as_the_constant(self):
        self.assertEqual(normalised("F1", None, 0.4, 0.8), 0.0)


def row(system, dataset, metric, score, constant, status="ok"):
    task = {"MSE": "regression", "F1": "binary", "Accuracy": "multiclass"}[metric]
    return {"system": system, "dataset": dataset, "task": task, "metric": metric,
            "score": score, "constant_score": constant, "status": status}


class Report(unittest.TestCase):
    def table(self):
        rows = [row("tabpilot", "a", "MSE", 4.0, 10.0), row("autogluon-best", "a", "MSE", 2.0, 10.0),
                row("flaml", "a", "MSE", 6.0, 10.0),
                row("tabpilot", "b", "Accuracy", 0.9, 0.5), row("autogluon-best", "b", "Accuracy", 0.9, 0.5),
                row("flaml", "b", "Accuracy", None, 0.5, status="killed")]
        return Table({(r["system"], r["dataset"]): r for r in rows})

    def test_means(self):
        t = self.table()
        # a: tabpilot 0.75, ag 1, flaml 0.5; b: tabpilot 1, ag 1, flaml killed -> 0
        self.assertAlmostEqual(t.mean("tabpilot"), 0.875)
        self.assertAlmostEqual(t.mean("autogluon-best"), 1.0)
        self.assertAlmostEqual(t.mean("flaml"), 0.25)

    def test_checks(self):
        lines = checks(self.table(), 60)
        self.assertTrue(lines[0].startswith("PASS: tabpilot normalised mean 0.875 >= flaml 0.250"))
        self.assertTrue(lines[1].startswith("n/a"))  # no autogluon-medium results
        # ties count as a match: b only
        self.assertTrue(lines[2].startswith("PASS: tabpilot at least matches autogluon-best on 1 of 2"))

    def test_tpe_vs_random_uses_the_default_column_for_its_sampler(self):
        # "tabpilot" ran random search (its default), "tabpilot-tpe" ran TPE: a: 0.75 vs 1.0.
        rows = [row("tabpilot", "a", "MSE", 4.0, 10.0), row("tabpilot-tpe", "a", "MSE", 2.0, 10.0)]
        rows[0]["extras"] = {"sampler": "random"}
        lines = checks(Table({(r["system"], r["dataset"]): r for r in rows}), 300)
        self.assertIn("PASS: tabpilot-tpe normalised mean 1.000 > tabpilot 0.750 on 1 datasets",
                      "\n".join(lines))
        rows[0]["extras"] = {"sampler": "tpe"}  # then nothing ran random search
        lines = checks(Table({(r["system"], r["dataset"]): r for r in rows}), 300)
        self.assertIn("n/a : TPE vs random", "\n".join(lines))

    def test_ensemble_on_off_line(self):
        rows = [row("tabpilot", "a", "MSE", 4.0, 10.0), row("tabpilot-no-ensemble", "a", "MSE", 2.0, 10.0)]
        lines = checks(Table({(r["system"], r["dataset"]): r for r in rows}), 60)
        self.assertIn("INFO: ensemble selection on 0.750 vs off 1.000 on 1 datasets", "\n".join(lines))

    def test_runner_and_systems_know_the_same_systems(self):
        import run
        import systems
        import report
        self.assertEqual(run.SYSTEMS, systems.SYSTEMS)
        self.assertEqual(report.ORDER, systems.SYSTEMS)

    def test_chart_is_valid_svg(self):
        t = self.table()
        svg = grouped_bars(t.datasets, t.systems, t.norm, "test <chart>")
        root = ET.fromstring(svg)
        self.assertTrue(root.tag.endswith("svg"))
        self.assertEqual(len(root.findall("{http://www.w3.org/2000/svg}rect")), 1 + 6 + 3)


if __name__ == "__main__":
    unittest.main()
