"""The systems of the suite: each fits on a Dataset's train split within a time budget and
predicts its test split, inside the worker process that run.py pinned to the benchmark cores.

Every function returns a Fit: predictions (labels as text for classification, numbers for
regression, one per scored test row), fit and predict seconds, versions, and extras.
Peers get the binary target as 0/1 with the positive class as 1, so that their own "f1"
means the same F1 tabpilot optimises.
"""
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

import pandas as pd

from tasks import label_text

SYSTEMS = ["tabpilot", "tabpilot-random", "tabpilot-tpe", "tabpilot-no-ensemble",
           "tabpilot-ens-objective", "flaml",
           "autogluon-medium", "autogluon-best", "xgboost", "lightgbm"]


@dataclass
class Fit:
    predictions: list
    fit_seconds: float
    predict_seconds: float
    versions: dict
    extras: dict = field(default_factory=dict)


@dataclass
class Budget:
    seconds: float
    cores: int
    seed: int
    workdir: str       # scratch folder of this (system, dataset) run
    tabpilot: str      # tabpilot binary
    phase: object      # phase(name): tells run.py where the run is (fit, predict)


def run(system, ds, budget):
    if system == "tabpilot":
        return tabpilot(ds, budget, sampler=None)
    if system == "tabpilot-random":
        return tabpilot(ds, budget, sampler="random")
    if system == "tabpilot-tpe":
        return tabpilot(ds, budget, sampler="tpe")
    if system == "tabpilot-no-ensemble":  # the default with the best single trial as the model
        return tabpilot(ds, budget, sampler=None, extra=["--ensemble-rounds", "0"])
    if system == "tabpilot-ens-objective":  # ensemble selection on the objective itself
        return tabpilot(ds, budget, sampler=None, extra=["--ensemble-metric", "objective"])
    if system == "flaml":
        return flaml(ds, budget)
    if system == "autogluon-medium":
        return autogluon(ds, budget, "medium_quality")
    if system == "autogluon-best":
        return autogluon(ds, budget, "best_quality")
    if system == "xgboost":
        return xgboost_default(ds, budget)
    if system == "lightgbm":
        return lightgbm_default(ds, budget)
    raise SystemExit("unknown system %r (known: %s)" % (system, ", ".join(SYSTEMS)))


def tabpilot(ds, b, sampler, extra=()):
    job = os.path.join(b.workdir, ds.name)
    cmd = [b.tabpilot, "fit", ds.train_csv, "--target", ds.target, "--output", b.workdir,
           "--name", ds.name, "--force", "--quiet", "--time-limit", "%g" % b.seconds,
           "--threads", str(b.cores), "--seed", str(b.seed)] + list(extra)
    if sampler:
        cmd += ["--sampler", sampler]
    else:
        sampler = _default_sampler(b.tabpilot)
    b.phase("fit")
    t0 = time.time()
    fit = subprocess.run(cmd, capture_output=True, text=True)
    fit_s = time.time() - t0
    if fit.returncode != 0:
        raise RuntimeError("tabpilot fit exit %d: %s" % (fit.returncode, fit.stderr.strip()[-400:]))
    b.phase("predict")
    out = os.path.join(b.workdir, "test_predictions.csv")
    t0 = time.time()
    pred = subprocess.run([b.tabpilot, "predict", job, ds.test_csv, "-o", out],
                          capture_output=True, text=True)
    predict_s = time.time() - t0
    if pred.returncode != 0:
        raise RuntimeError("tabpilot predict exit %d: %s" % (pred.returncode, pred.stderr.strip()[-400:]))
    column = pd.read_csv(out, keep_default_na=False)["predicted_label"]
    values = column[ds.test_mask].tolist()
    if ds.task == "regression":
        values = [float(v) for v in values]
    with open(os.path.join(job, "job.json")) as f:
        info = json.load(f)
    version = subprocess.run([b.tabpilot, "--version"], capture_output=True, text=True).stdout.strip()
    version = version.replace("tabpilot ", "", 1)
    extras = {"command": cmd, "binary": os.path.realpath(b.tabpilot), "sampler": sampler,
              "trials_completed": info.get("tabpilot", {}).get("trials", {}).get("completed"),
              "best_candidate": info.get("BestCandidate", {}).get("CandidateName"),
              "problem_type": info.get("ResolvedAttributes", {}).get("ProblemType")}
    # tabpilot infers the problem type (the peers are told it); a wrong guess shows here.
    expected = {"regression": "Regression", "binary": "BinaryClassification",
                "multiclass": "MulticlassClassification"}[ds.task]
    extras["problem_type_as_meta"] = extras["problem_type"] == expected
    return Fit(values, fit_s, predict_s, {"tabpilot": version}, extras)


def _default_sampler(binary):
    """The sampler `tabpilot fit` uses without --sampler, from its help text (None: no flag)."""
    help_text = subprocess.run([binary, "fit", "--help"], capture_output=True, text=True).stdout
    found = re.search(r"--sampler\s+TEXT=(\w+)", help_text)
    return found.group(1) if found else None


def _xy(ds):
    """Features and a target encoded for peers: binary -> 0/1 (positive = 1), multiclass ->
    label text, regression -> float."""
    X = ds.train.drop(columns=[ds.target])
    Xte = ds.test.drop(columns=[ds.target])
    y = ds.train[ds.target]
    if ds.task == "binary":
        y = (y.map(label_text) == ds.positive).astype(int)
    elif ds.task == "multiclass":
        y = y.map(label_text)
    else:
        y = y.astype(float)
    return X, y, Xte


def _decode(ds, predicted):
    """Peer predictions back to the labels the dataset is scored on."""
    predicted = list(predicted)
    if ds.task == "regression":
        return [float(v) for v in predicted]
    if ds.task == "binary":
        negative = next(l for l in ds.labels() if l != ds.positive)
        return [ds.positive if int(v) == 1 else negative for v in predicted]
    return [label_text(v) for v in predicted]


def flaml(ds, b):
    import flaml as flaml_pkg
    from flaml import AutoML
    X, y, Xte = _xy(ds)
    task = "regression" if ds.task == "regression" else "classification"
    metric = {"regression": "mse", "binary": "f1", "multiclass": "accuracy"}[ds.task]
    automl = AutoML()
    b.phase("fit")
    t0 = time.time()
    automl.fit(X_train=X, y_train=y, task=task, metric=metric, time_budget=b.seconds,
               n_jobs=b.cores, seed=b.seed, verbose=0, log_file_name="")
    fit_s = time.time() - t0
    b.phase("predict")
    t0 = time.time()
    predicted = automl.predict(Xte)
    predict_s = time.time() - t0
    extras = {"best_estimator": automl.best_estimator, "best_config": automl.best_config,
              "best_validation_loss": automl.best_loss, "trials": len(automl.config_history),
              "settings": {"time_budget": b.seconds, "task": task, "metric": metric,
                           "n_jobs": b.cores, "seed": b.seed}}
    return Fit(_decode(ds, predicted), fit_s, predict_s, {"flaml": flaml_pkg.__version__}, extras)


def autogluon(ds, b, presets):
    import autogluon.tabular as ag
    from autogluon.tabular import TabularPredictor
    X, y, Xte = _xy(ds)
    train = X.copy()
    train[ds.target] = y.to_numpy()
    metric = {"regression": "mean_squared_error", "binary": "f1", "multiclass": "accuracy"}[ds.task]
    predictor = TabularPredictor(label=ds.target, problem_type=ds.task, eval_metric=metric,
                                 path=os.path.join(b.workdir, "ag"), verbosity=2)
    b.phase("fit")
    t0 = time.time()
    predictor.fit(train, time_limit=b.seconds, presets=presets, num_cpus=b.cores, num_gpus=0)
    fit_s = time.time() - t0
    b.phase("predict")
    t0 = time.time()
    predicted = predictor.predict(Xte)
    predict_s = time.time() - t0
    extras = {"presets": presets, "eval_metric": metric,
              "best_model": predictor.model_best,
              "models": len(predictor.model_names())}
    versions = {"autogluon.tabular": ag.__version__}
    for package in ("catboost", "lightgbm", "xgboost", "ray"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            versions[package] = "not installed"
    return Fit(_decode(ds, predicted), fit_s, predict_s, versions, extras)


def _one_hot(ds):
    """compare_xgboost.py's encoding: pandas.get_dummies over train+test categories."""
    X = pd.get_dummies(pd.concat([ds.train.drop(columns=[ds.target]),
                                  ds.test.drop(columns=[ds.target])]), dummy_na=False)
    X = X.astype(float)
    # XGBoost refuses feature names with [, ] or < (california's "<1H OCEAN").
    X.columns = ["f%d" % i for i in range(X.shape[1])]
    return X.iloc[: len(ds.train)], X.iloc[len(ds.train):]


def _categorical(ds):
    """LightGBM's own categorical handling: text columns as pandas categories (categories
    from train+test so both sides share codes)."""
    both = pd.concat([ds.train.drop(columns=[ds.target]), ds.test.drop(columns=[ds.target])])
    for column in both.columns:
        if both[column].dtype == object:
            both[column] = both[column].astype("category")
    return both.iloc[: len(ds.train)], both.iloc[len(ds.train):]


def _classic(ds, b, model_for, encode, versions):
    X, Xte = encode(ds)
    _, y, _ = _xy(ds)
    b.phase("fit")
    t0 = time.time()
    if ds.task == "multiclass":
        labels = ds.labels()
        index = {l: i for i, l in enumerate(labels)}
        model = model_for(classifier=True)
        model.fit(X, y.map(index))
    else:
        model = model_for(classifier=ds.task == "binary")
        model.fit(X, y)
    fit_s = time.time() - t0
    b.phase("predict")
    t0 = time.time()
    predicted = model.predict(Xte)
    predict_s = time.time() - t0
    if ds.task == "multiclass":
        predicted = [labels[int(i)] for i in predicted]
    return Fit(_decode(ds, predicted), fit_s, predict_s, versions, {"params": "defaults"})


def xgboost_default(ds, b):
    import xgboost as xgb

    def model_for(classifier):
        cls = xgb.XGBClassifier if classifier else xgb.XGBRegressor
        return cls(n_jobs=b.cores, random_state=b.seed)
    return _classic(ds, b, model_for, _one_hot, {"xgboost": xgb.__version__})


def lightgbm_default(ds, b):
    import lightgbm as lgb

    def model_for(classifier):
        cls = lgb.LGBMClassifier if classifier else lgb.LGBMRegressor
        return cls(n_jobs=b.cores, random_state=b.seed, verbose=-1)
    return _classic(ds, b, model_for, _categorical, {"lightgbm": lgb.__version__})
