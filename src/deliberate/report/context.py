"""The template context of the report: plain dicts and strings, shared by HTML and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliberate.evals.suites import SUITES
from deliberate.report.cells import Cell
from deliberate.report.load import Run

if TYPE_CHECKING:
    from deliberate.report.build import Report


def context(report: Report) -> dict[str, Any]:
    from deliberate import __version__

    rows = [_row(report, run) for run in report.runs]
    return {
        "version": __version__, "generated": report.generated, "n_boot": report.n_boot,
        "seed": report.seed, "runs": [_run(report, run) for run in report.runs],
        "suites": _suites(report), "rows": rows,
        "has_fallback": any(c["source"] == "metrics.json" for r in rows for c in r["cells"]),
        "coverage": report.coverage, "plots": report.plots, "examples": _examples(report),
        "notes": report.notes,
    }


def _suites(report: Report) -> list[dict[str, Any]]:
    out = []
    for suite in SUITES:
        metrics = [m for m in suite.metrics if (suite.name, m.name) in report.columns]
        if metrics:
            out.append({"title": suite.title, "metrics": [
                {"name": m.name, "direction": m.direction, "meaning": m.meaning} for m in metrics]})
    return out


def _digits(column: tuple[str, str]) -> int:
    for suite in SUITES:
        for metric in suite.metrics:
            if (suite.name, metric.name) == column:
                return metric.digits
    return 3


def _row(report: Report, run: Run) -> dict[str, Any]:
    cells = []
    for col in report.columns:
        cell = report.cells[run.name].get(col) or Cell(None, source="none")
        point, ci = cell.parts(_digits(col))
        cells.append({"text": cell.text(_digits(col)), "point": point, "ci": ci, "best": cell.best,
                      "source": cell.source})
    return {"name": run.name, "color": report.colors[run.name], "cells": cells}


def _run(report: Report, run: Run) -> dict[str, Any]:
    config, manifest = run.config, run.manifest
    evaluated = manifest.models.get("evaluated")
    spec = manifest.spec.name if manifest.spec else "—"
    sampling = {k: config[k] for k in ("temperature", "max_tokens") if k in config}
    return {
        "name": run.name, "color": report.colors[run.name], "path": str(run.path),
        "model": run.model, "fingerprint": (evaluated.fingerprint if evaluated else None) or "—",
        "suites": ", ".join(config.get("suites", [])) or "—",
        "samples": config.get("samples", "—"), "grader": config.get("grader") or "local (no API)",
        "spec": spec + (" (in context)" if config.get("spec_in_context") else ""),
        "jailbreaks": len(manifest.details.get("jailbreaks", [])), "limit": config.get("limit"),
        "created": manifest.created,
        "sampling": ", ".join(f"{k}={v}" for k, v in sorted(sampling.items())),
        "versions": ", ".join(f"{k} {v}" for k, v in sorted(manifest.versions.items())),
        "notes": run.notes,
    }


def _examples(report: Report) -> list[dict[str, Any]]:
    titles = {suite.name: suite.title for suite in SUITES}
    return [{
        "run": run.name, "color": report.colors[run.name],
        "suites": [{"title": titles[s], "examples": exs} for s, exs in report.examples[run.name].items()],
    } for run in report.runs if report.examples[run.name]]
