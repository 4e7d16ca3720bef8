#!/usr/bin/env bash
# Regenerates docs/screenshots/: one regression job (auto_mpg) and one binary classification
# job (breast_cancer_wisconsin), their reports, and a PNG of each page from headless Chromium.
# Usage: scripts/report_screenshots.sh [path/to/tabpilot]   (default: build/tabpilot)
set -euo pipefail
cd "$(dirname "$0")/.."
TABPILOT=${1:-build/tabpilot}
OUT=docs/screenshots
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
shoot() {  # job_dir prefix
  for page in index data_exploration candidate_definitions model_quality explainability; do
    chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
      --user-data-dir="$WORK/profile" --window-size=1280,2400 \
      --screenshot="$OUT/$2-$page.png" "file://$(realpath "$1")/$page.html" 2>/dev/null
  done
}
"$TABPILOT" fit tests/fixtures/auto_mpg/train.csv --target mpg --output "$WORK" --name auto_mpg \
  --max-candidates 8 --time-limit 60 --seed 1 --force --quiet
"$TABPILOT" report "$WORK/auto_mpg"
shoot "$WORK/auto_mpg" regression
"$TABPILOT" fit tests/fixtures/breast_cancer_wisconsin/train.csv --target class --output "$WORK" \
  --name breast_cancer --max-candidates 8 --time-limit 60 --seed 1 --force --quiet
"$TABPILOT" report "$WORK/breast_cancer"
shoot "$WORK/breast_cancer" classification
ls -l "$OUT"
