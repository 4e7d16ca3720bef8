#!/usr/bin/env bash
# Makes bench/suite/.venv with the peers of the suite (FLAML, AutoGluon, XGBoost, LightGBM).
# A venv of its own because autogluon.tabular pins pandas/numpy ranges that the rest of
# bench/ (system Python) need not follow. About 1.1 GB, 1-2 minutes on a fast mirror.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q --upgrade pip
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
"$here/.venv/bin/pip" check
"$here/.venv/bin/python" -c "import flaml, lightgbm, xgboost, catboost, autogluon.tabular as ag; \
print('flaml', flaml.__version__, 'lightgbm', lightgbm.__version__, 'xgboost', xgboost.__version__, \
'catboost', catboost.__version__, 'autogluon.tabular', ag.__version__)"
