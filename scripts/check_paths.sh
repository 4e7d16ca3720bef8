#!/usr/bin/env bash
# Refuses tracked files that name a machine's own folders (absolute /home, /root or /work
# paths): results, logs and scripts must work on any checkout (bench/portable_paths.py makes
# recorded paths relative). Run by scripts/test.sh, so CI holds it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check_paths: not a git checkout; skipped"
  exit 0
fi
# The pattern is assembled so that this file does not match itself.
roots="home|root|work"
pattern="(^|[^A-Za-z0-9_.~-])/($roots)/[A-Za-z0-9_.-]"
if hits=$(git ls-files -z | xargs -0 grep -nIE "$pattern" -- 2>/dev/null); then
  echo "check_paths: tracked files name absolute machine paths (make them relative):" >&2
  echo "$hits" | head -20 >&2
  exit 1
fi
echo "check_paths: no absolute /home, /root or /work paths in tracked files"
