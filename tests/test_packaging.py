"""Every data file the package reads at run time must be in the wheel, not only in a source
checkout: an editable install hides a missing ``package-data`` pattern (the refusal grader's
weights were once left out, so an installed grader silently fell back to hand-written rules).
And the wheel ships what grading needs, not how the grader was trained: that is research code,
kept in ``research/`` beside the package."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "deliberate"


def _setuptools_config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _package_data_patterns() -> list[str]:
    return _setuptools_config()["package-data"]["deliberate"]


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


# Functions of the grader's training code (research/refusal_grader/), by names no shipped module
# has a reason to use.
TRAINING_FUNCTIONS = {"fit_logreg", "fit_all", "leave_one_model_out", "annotator_agreement"}


def _wheel_files() -> list[str]:
    """The files the wheel would hold, as paths inside it, from pyproject.toml as setuptools reads
    it: ``packages.find`` with ``where`` only finds (namespace) packages in every folder under
    ``where``, so every module there, plus the files ``package-data`` declares."""
    find = _setuptools_config()["packages"]["find"]
    assert set(find) == {"where"}, f"include/exclude/namespaces changed: update this model: {find}"
    patterns = _package_data_patterns()
    files = []
    for where in find["where"]:
        base = ROOT / where
        for p in base.rglob("*"):
            if not p.is_file() or "__pycache__" in p.parts or p.parent == base:
                continue
            rel = p.relative_to(base).as_posix()
            top, _, inside = rel.partition("/")
            if p.suffix == ".py" or top == "deliberate" and any(_matches(inside, pat)
                                                                 for pat in patterns):
                files.append(rel)
    return sorted(files)


def test_wheel_ships_the_grader_but_not_its_training_code():
    files = _wheel_files()
    # The grader's inference code and weights are in...
    for f in ("grader.py", "model.py", "rules.py", "embedding.py", "lm_states.py",
              "weights_rules.npz", "weights_embedding.npz", "weights_lm.npz"):
        assert f"deliberate/evals/refusal/{f}" in files
    # ...its training code is not: no module of it, nothing from research/, no training function.
    assert all(f.startswith("deliberate/") for f in files), [f for f in files
                                                            if not f.startswith("deliberate/")]
    assert "deliberate/evals/refusal/training.py" not in files
    assert "deliberate/evals/refusal/fit.py" not in files
    for rel in (f for f in files if f.endswith(".py")):
        source = (ROOT / "src" / rel).read_text(encoding="utf-8")
        assert "fit_logreg" not in source, rel
        tree = ast.parse(source, filename=rel)
        defined = {n.name for n in ast.walk(tree)
                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        assert not defined & TRAINING_FUNCTIONS, (rel, defined & TRAINING_FUNCTIONS)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree)
                     if isinstance(n, ast.ImportFrom) and not n.level}
        assert not any(m == "research" or m.startswith("research.") for m in imported), rel


def test_training_code_is_in_research():
    """The other half: what the wheel leaves out exists, where the research README says."""
    research = ROOT / "research" / "refusal_grader"
    for f in ("__init__.py", "training.py", "fit.py", "refusal_agreement.py",
              "train_refusal_classifier.py", "README.md"):
        assert (research / f).is_file(), f


# Dependencies whose next major version has broken us before, or could: each must be bounded
# below that major (typer 0.29 bundling its own click once turned every usage error into a
# traceback).
BOUNDED = {"pydantic": 3, "click": 9, "transformers": 6, "trl": 2, "peft": 1, "accelerate": 2,
           "datasets": 6}


def test_dependencies_have_upper_bounds_and_torch_is_pinned_by_the_readme():
    from packaging.requirements import Requirement
    from test_readme import readme_commands

    with (ROOT / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    found: dict[str, list[str]] = {}
    for group, requirements in groups.items():
        for text in requirements:
            req = Requirement(text)
            if req.name in BOUNDED:
                found.setdefault(req.name, []).append(f"{group}: {text}")
                uppers = [s for s in req.specifier if s.operator == "<"]
                assert uppers, f"{group}: {text} has no upper bound"
                assert all(int(s.version.split(".")[0]) <= BOUNDED[req.name] for s in uppers), text
    assert set(found) == set(BOUNDED), f"not declared: {set(BOUNDED) - set(found)}"
    assert not [r for r in project["dependencies"] if Requirement(r).name == "typer"]
    # every core dependency is bounded (commands that do not train must keep working)
    assert all(any(s.operator == "<" for s in Requirement(r).specifier)
               for r in project["dependencies"]), project["dependencies"]
    # torch: not a package requirement (a loose one fetches the newest CUDA build); the README's
    # set-up commands install the tested version first
    every = [Requirement(r).name for rs in groups.values() for r in rs]
    assert "torch" not in every
    for command in readme_commands():
        assert "pip install torch==2.13.0 && pip install -e " in command, command
