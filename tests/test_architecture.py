"""The package's shape: layers import downwards only; functions and modules stay small.

Layers, bottom to top: llm -> records -> spec -> generate | judge -> evals -> report -> train
-> pipeline -> cli. A module may import its own package and any package below it; two packages
on one level (generate, judge) may not import each other. The top-level modules (errors,
prompts) sit below everything and import no package of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "deliberate"
LAYERS = {
    "llm": 1, "records": 2, "spec": 3, "generate": 4, "judge": 4, "evals": 5, "report": 6,
    "train": 7, "pipeline": 8, "cli": 9,
}
FUNCTION_LINES, MODULE_LINES = 50, 300
TRAINING_RECIPES = {"train/sft.py", "train/rl.py"}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else ""


def _imported_packages(tree: ast.AST) -> set[str]:
    """Our packages a module imports, anywhere in it (inside functions and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "deliberate" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def layer_violations() -> list[str]:
    out = []
    for path in _modules():
        own = _package(path)
        rank = LAYERS.get(own, 0)
        for imported in _imported_packages(ast.parse(path.read_text(encoding="utf-8"))):
            if imported != own and LAYERS[imported] >= rank:
                out.append(f"{path.relative_to(SRC)} imports deliberate.{imported}")
    return out


def test_layers_import_downwards_only() -> None:
    assert layer_violations() == []


def test_nothing_under_llm_imports_a_higher_layer() -> None:
    """The grep-level view of the same rule, for the bottom layer."""
    for path in (SRC / "llm").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("records", "spec", "judge", "generate", "evals", "report", "train", "pipeline", "cli"):
            assert f"deliberate.{name}" not in text, f"{path.relative_to(SRC)} mentions deliberate.{name}"


def test_the_layer_check_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "deliberate"
    (bad / "llm").mkdir(parents=True)
    (bad / "llm" / "x.py").write_text("def f():\n    from deliberate.records.prompt import PromptRecord\n")
    (bad / "judge").mkdir()
    (bad / "judge" / "y.py").write_text("from deliberate.generate.sample import run_sample\n")
    monkeypatch.setitem(globals(), "SRC", bad)
    assert sorted(layer_violations()) == [
        "judge/y.py imports deliberate.generate", "llm/x.py imports deliberate.records"]


def test_functions_and_modules_are_short() -> None:
    """No function over 50 lines, no module over 300 lines (the training recipes excepted)."""
    long = []
    for path in _modules():
        name = str(path.relative_to(SRC))
        if name in TRAINING_RECIPES:
            continue
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MODULE_LINES:
            long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > FUNCTION_LINES:
                    long.append(f"{name}: {node.name}() is {size} lines")
    assert long == []
