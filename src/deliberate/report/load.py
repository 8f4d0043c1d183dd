"""Reading run folders for the report: evaluation runs, or pipeline runs (their eval runs).

Every run folder has one manifest shape (:class:`~deliberate.records.provenance.Provenance`):
an ``eval`` manifest is one run of the report; a ``pipeline`` manifest stands for the eval runs
its eval stage wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from deliberate.errors import DeliberateError
from deliberate.evals.suites import SUITES, suite_names
from deliberate.records.evaluation import EvalResult
from deliberate.records.provenance import MANIFEST, Provenance


@dataclass
class Run:
    """One evaluation run: its manifest, graded results per suite and stored metrics."""

    name: str
    path: Path
    manifest: Provenance
    results: dict[str, list[EvalResult]] = field(default_factory=dict)
    stored_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        info = self.manifest.models.get("evaluated")
        return info.ref if info else "?"

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest.config

    @property
    def suites(self) -> list[str]:
        """Suites with results or stored metrics, in the canonical order."""
        return [s for s in suite_names() if s in self.results or s in self.stored_metrics]


def run_folders(path: Path) -> list[Path]:
    """``path`` itself for an eval run; the eval runs of a pipeline run folder."""
    path = Path(path)
    if not path.is_dir():
        raise DeliberateError(f"{path}: no such run directory")
    if not (path / MANIFEST).is_file():
        raise DeliberateError(f"{path}: not a run directory (no {MANIFEST}); pass the output "
                              "folder of `deliberate eval` or `deliberate run`")
    manifest = Provenance.load(path)
    if manifest.kind == "eval":
        return [path]
    if manifest.kind != "pipeline":
        raise DeliberateError(f"{path}: a {manifest.kind} run has no evaluation to report")
    stage = manifest.stages.get("eval")
    folders = [path / out for out in (stage.outputs if stage else [])]
    folders = [f for f in folders if (f / MANIFEST).is_file()]
    if not folders:
        raise DeliberateError(f"{path}: this pipeline run has no finished eval stage yet")
    return folders


def load_run(path: Path) -> Run:
    """Read one evaluation run folder."""
    run = Run(name="", path=path, manifest=Provenance.load(path))
    run.stored_metrics = _read_metrics(path / "metrics.json", run.notes)
    listed = set(run.config.get("suites", []))
    for suite in suite_names():
        _load_suite(run, suite, listed)
    known = set(suite_names())
    for extra in sorted(p.name for p in path.iterdir() if p.is_dir() and (p / "results.jsonl").is_file()):
        if extra not in known:
            run.notes.append(f"{extra}: unknown suite; not in the report")
    for suite, facts in (run.manifest.details.get("suites") or {}).items():
        if isinstance(facts, dict) and facts.get("comparable") is False:  # says why (manifest)
            run.notes.append(f"{suite}: {facts.get('comparability', 'not comparable')}")
    return run


def _load_suite(run: Run, suite: str, listed: set[str]) -> None:
    file = run.path / suite / "results.jsonl"
    stored = suite in run.stored_metrics
    if not file.is_file():
        if suite in listed and not stored:
            run.notes.append(f"{suite}: listed in the manifest but {suite}/results.jsonl is missing; skipped")
        elif stored:
            run.notes.append(f"{suite}: no results.jsonl; metrics taken from metrics.json (no intervals)")
        return
    results = _read_results(file, suite, run.notes)
    if results:
        run.results[suite] = results
    elif stored:
        run.notes.append(f"{suite}: results.jsonl is empty; metrics taken from metrics.json (no intervals)")
    else:
        run.notes.append(f"{suite}: results.jsonl is empty; skipped")


def _read_metrics(file: Path, notes: list[str]) -> dict[str, dict[str, Any]]:
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        notes.append(f"metrics.json unreadable ({exc}); ignored")
        return {}
    if not isinstance(data, dict):
        notes.append("metrics.json is not an object; ignored")
        return {}
    known = {suite.name for suite in SUITES}
    return {s: v for s, v in data.items() if s in known and isinstance(v, dict)}


def _read_results(file: Path, suite: str, notes: list[str]) -> list[EvalResult]:
    results: list[EvalResult] = []
    bad, first_bad = 0, None
    try:
        with file.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    results.append(EvalResult.model_validate_json(line))
                except ValidationError:
                    bad += 1
                    first_bad = first_bad or lineno
    except (OSError, UnicodeDecodeError) as exc:
        notes.append(f"{suite}: cannot read results.jsonl ({exc}); skipped")
        return []
    if bad:
        notes.append(f"{suite}: {bad} unreadable line(s) in results.jsonl skipped (first: line {first_bad})")
    errors = sum(r.error is not None for r in results)
    if errors:
        notes.append(f"{suite}: {errors} of {len(results)} results have a grading error "
                     "(ungraded fields do not count)")
    return results


def load_runs(run_dirs: list[Path]) -> list[Run]:
    """Read every run folder (a pipeline folder stands for its eval runs); name each uniquely."""
    if not run_dirs:
        raise DeliberateError("no run directories given")
    runs = [load_run(folder) for d in run_dirs for folder in run_folders(Path(d))]
    _name_runs(runs)
    return runs


def _name_runs(runs: list[Run]) -> None:
    """label, else model, else dir name; duplicates get their (shortest distinguishing) path."""
    base = [r.manifest.label or r.model or r.path.name for r in runs]
    names = list(base)
    for i, name in enumerate(base):
        if base.count(name) > 1:
            names[i] = f"{name} ({_distinguishing_suffix(runs, base, i)})"
    counts = {n: names.count(n) for n in names}
    seen: dict[str, int] = {}
    for i, name in enumerate(list(names)):
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            names[i] = f"{name} #{seen[name]}"
    for run, name in zip(runs, names):
        run.name = name


def _distinguishing_suffix(runs: list[Run], base: list[str], i: int) -> str:
    """The shortest path tail that tells run ``i`` from the other runs of the same name."""
    twins = [j for j, b in enumerate(base) if b == base[i]]
    parts = {j: runs[j].path.resolve().parts for j in twins}
    suffix: dict[int, str] = {}
    for depth in range(1, max(len(p) for p in parts.values()) + 1):
        suffix = {j: "/".join(p[-depth:]) for j, p in parts.items()}
        if len(set(suffix.values())) == len(set(parts.values())) or depth == len(parts[i]):
            break
    return suffix[i]
