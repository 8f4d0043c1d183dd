"""The template context of the report: plain dicts and strings, shared by HTML and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliberate.evals.suites import SUITES
from deliberate.report.load import Run
from deliberate.report.table import changes, delta_heads, table

if TYPE_CHECKING:
    from deliberate.report.build import Report


def context(report: Report) -> dict[str, Any]:
    from deliberate import __version__

    suites = table(report)
    rows = [row for s in suites for row in s["rows"]]
    return {
        "version": __version__, "generated": report.generated, "n_boot": report.n_boot,
        "seed": report.seed, "runs": [_run(report, run) for run in report.runs],
        "baseline": report.runs[0].name if report.runs else "",
        "delta_heads": delta_heads(report), "suites": suites,
        "changes": changes(report, suites),
        "has_fallback": any(c["source"] == "metrics.json" for r in rows
                            for c in r["cells"] + r["deltas"]),
        "coverage": report.coverage, "plots": report.plots, "examples": _examples(report),
        "pairs": _pairs(report), "notes": report.notes,
    }


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


def _pairs(report: Report) -> list[dict[str, Any]]:
    base = report.runs[0] if report.runs else None
    return [{
        "before": base.name, "after": run.name, "before_color": report.colors[base.name],
        "after_color": report.colors[run.name], "sections": report.pairs[run.name],
    } for run in report.runs[1:] if base is not None and report.pairs.get(run.name)]
