"""Every data file the package reads at run time must be in the wheel, not only in a source
checkout: an editable install hides a missing ``package-data`` pattern (the refusal grader's
weights were once left out, so an installed grader silently fell back to hand-written rules)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "deliberate"


def _package_data_patterns() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        config = tomllib.load(fh)
    return config["tool"]["setuptools"]["package-data"]["deliberate"]


def _matches(rel: str, pattern: str) -> bool:
    # setuptools globs: "*" stays within a folder, "**" crosses folders.
    if "**" in pattern:
        head, _, tail = pattern.partition("**/")
        return rel.startswith(head) and fnmatch.fnmatch(rel.rsplit("/", 1)[-1], tail)
    return rel.count("/") == pattern.count("/") and fnmatch.fnmatch(rel, pattern)


def test_every_package_data_file_is_declared():
    patterns = _package_data_patterns()
    data_files = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert any(f.endswith(".npz") for f in data_files)  # the grader's weights are checked too
    missing = [f for f in data_files if not any(_matches(f, pat) for pat in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data] (so not in the wheel): {missing}"
