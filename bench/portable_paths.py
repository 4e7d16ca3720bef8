"""Paths in recorded benchmark results, made portable: an absolute path under the repository
is written relative to it, one under the datasets folder as ../shared/datasets/..., so that
committed results name no machine's folders (CI refuses /home, /root and /work paths)."""
import os

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATASETS = os.path.normpath(os.path.join(REPO, "..", "shared", "datasets"))


def portable(value, roots=None):
    """value with every string (also inside lists and dicts) made relative: the longest
    matching root of `roots` (default: the datasets folder, then the repository) is replaced
    by its path relative to the repository."""
    roots = roots or [DATASETS, REPO]
    if isinstance(value, dict):
        return {k: portable(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, roots) for v in value]
    if isinstance(value, str):
        for root in sorted(roots, key=len, reverse=True):
            root = os.path.normpath(root)
            rel = os.path.relpath(root, REPO)
            value = value.replace(root + os.sep, "" if rel == "." else rel + os.sep)
            if value == root:
                value = rel
        return value
    return value
