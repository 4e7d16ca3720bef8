"""One benchmark dataset: its fixed split, its metric and its constant-predictor score.

The loading, label and scoring rules are bench/compare_xgboost.py's (imported, not copied),
so the suite and the older two-way comparison score every system the same way.

Metric per problem type = tabpilot's (and Autopilot's) default objective, which every
system is also told to optimise:
  regression  MSE       (lower is better)
  binary      F1 of the positive class (compare_xgboost.positive_label: tabpilot's rule)
  multiclass  Accuracy
F1 rather than AUC for binary because it is the objective tabpilot selects models by, and
it scores the predicted labels, which every peer returns without a probability contract.
"""
import json
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_xgboost import MISSING, label_text, positive_label, score  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATASETS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "datasets"))

METRIC = {"regression": "MSE", "binary": "F1", "multiclass": "Accuracy"}
LOWER_IS_BETTER = {"MSE"}


class Dataset:
    """META.json + train.csv/test.csv of one folder under ../shared/datasets."""

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, "META.json")) as f:
            self.meta = json.load(f)
        self.name = self.meta["name"]
        self.target = self.meta["target"]
        self.task = self.meta["task"]
        self.metric = METRIC[self.task]
        self.train_csv = os.path.join(folder, "train.csv")
        self.test_csv = os.path.join(folder, "test.csv")
        read = dict(na_values=MISSING, keep_default_na=False, skipinitialspace=True)
        train = pd.read_csv(self.train_csv, **read)
        test = pd.read_csv(self.test_csv, **read)
        self.train = train[train[self.target].notna()].reset_index(drop=True)
        # Rows of test.csv that carry a target; systems that read test.csv themselves
        # (tabpilot) predict every row, and scoring keeps these.
        self.test_mask = test[self.target].notna().to_numpy()
        self.test = test[self.test_mask].reset_index(drop=True)
        self.positive = None
        if self.task == "binary":
            counts = self.train[self.target].map(label_text).value_counts().to_dict()
            self.positive = positive_label(sorted(counts), counts)

    def y_test(self):
        return self.test[self.target].tolist()

    def labels(self):
        """Class labels as text, sorted (classification only)."""
        return sorted(self.train[self.target].map(label_text).unique())

    def score(self, predictions):
        return score(self.task, self.y_test(), predictions, self.positive)

    def constant_score(self):
        """Score of the best constant predictor fitted on train, measured on test.

        regression: the train mean. multiclass: the train majority class. binary F1:
        always the positive class (the constant with the highest F1; the majority class is
        usually the negative one, whose F1 is 0, too easy a floor)."""
        n = len(self.test)
        if self.task == "regression":
            return self.score([float(self.train[self.target].astype(float).mean())] * n)
        if self.task == "binary":
            return self.score([self.positive] * n)
        majority = self.train[self.target].map(label_text).value_counts().idxmax()
        return self.score([majority] * n)


def better(metric, a, b):
    """True when score a is at least as good as score b."""
    return a <= b if metric in LOWER_IS_BETTER else a >= b


def normalised(metric, value, constant, best):
    """0 = constant predictor, 1 = best system; None (failed run) counts as the constant."""
    if value is None:
        return 0.0
    if best == constant:
        return 0.0
    return float((value - constant) / (best - constant))
