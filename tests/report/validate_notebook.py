#!/usr/bin/env python3
"""Validates a candidate_definitions.ipynb with nbformat (pip install nbformat); not run in CI.

Usage: tests/report/validate_notebook.py JOB_DIR/candidate_definitions.ipynb
"""
import sys

import nbformat

nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
reruns = sum('tabpilot("train", "--job", JOB' in c.source for c in nb.cells
             if c.cell_type == "code")
print(f"{sys.argv[1]}: valid nbformat {nb.nbformat}.{nb.nbformat_minor}, "
      f"{len(nb.cells)} cells, {reruns} re-run cells")
