"""The Markdown version of the report: same content, plots linked as PNG files.

Model text goes into fenced code blocks (fences longer than any backtick run inside), and every
other string is HTML-escaped, so responses containing HTML or Markdown cannot change the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

HOW_TO_READ = (
    "**How to read this.** Each cell is the point estimate with a 95% bootstrap interval over "
    "prompts. StrongREJECT goodness@0.1: higher is better (robust even to the worst jailbreaks). "
    "XSTest not_overrefuse: higher is better (fewer refusals of safe prompts). Harm scores (0–1): "
    "lower is better. ↑/↓ next to a metric says which direction is better; the best value per "
    "column is in bold."
)


def cell(text: Any) -> str:
    """A string safe inside a Markdown table cell."""
    s = html.escape(str(text), quote=False).replace("|", "\\|")
    return re.sub(r"\s+", " ", s).strip()


def inline(text: Any) -> str:
    """A string safe in running Markdown text (escapes HTML and Markdown emphasis/link chars)."""
    s = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]])", r"\\\1", s)


def fenced(text: str, info: str = "text") -> str:
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _link(target: str) -> str:
    return f"<{target}>" if re.search(r"[\s()]", target) else target


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_markdown(report: Any, ctx: dict[str, Any], links: dict[str, str]) -> str:
    """The whole Markdown page; ``links`` maps each plot id to its PNG's path from the page."""
    lines = ["# deliberate evaluation report", "",
             (f"Generated {ctx['generated']} by deliberate {ctx['version']}; "
             f"{ctx['n_boot']} bootstrap resamples of prompts, seed {ctx['seed']}."), "",
             HOW_TO_READ, ""]
    lines += _runs_section(ctx)
    lines += _metrics_section(ctx)
    lines += _coverage_and_notes(ctx)
    lines += _plots_section(report, links)
    lines += _examples_section(ctx)
    return "\n".join(lines).rstrip() + "\n"


# Each section helper returns its lines, ending with a blank line (or nothing when the section is
# absent), so that render_markdown only concatenates them.


def _runs_section(ctx: dict[str, Any]) -> list[str]:
    """One row per run: what was evaluated, with which settings."""
    lines = ["## Runs", ""]
    lines += _table(
        ["run", "model", "weights", "suites", "samples", "grader", "spec", "jailbreaks", "created"],
        [[cell(r[k]) for k in ("name", "model", "fingerprint", "suites", "samples", "grader",
                               "spec", "jailbreaks", "created")] for r in ctx["runs"]])
    return lines + [""]


def _metrics_section(ctx: dict[str, Any]) -> list[str]:
    """The metric table (best value per column in bold), its footnote and the metric meanings."""
    lines = ["## Metrics", ""]
    if not (ctx["rows"] and ctx["suites"]):
        return lines + ["No metrics to show.", ""]
    header = ["run"]
    for s in ctx["suites"]:
        for m in s["metrics"]:
            arrow = {"higher": " ↑", "lower": " ↓"}.get(m["direction"], "")
            header.append(cell(f"{s['title']} {m['name']}{arrow}"))
    rows = []
    for r in ctx["rows"]:
        rows.append([cell(r["name"])] + [
            f"**{cell(c['text'])}**" if c["best"] else cell(c["text"]) for c in r["cells"]])
    lines += _table(header, rows)
    lines.append("")
    if ctx["has_fallback"]:
        lines += ["† from metrics.json (no results.jsonl to recompute or bootstrap).", ""]
    for s in ctx["suites"]:
        for m in s["metrics"]:
            if m["meaning"]:
                lines.append(f"- *{inline(s['title'])} {inline(m['name'])}*: {inline(m['meaning'])}")
    return lines + [""]


def _coverage_and_notes(ctx: dict[str, Any]) -> list[str]:
    """What each run's suites contained, and the notes (skipped or recomputed suites) if any."""
    lines: list[str] = []
    if ctx["coverage"]:
        keys = ("run", "suite", "prompts", "results", "groups", "errors", "source")
        lines += ["### Coverage", ""]
        lines += _table(list(keys), [[cell(c[k]) for k in keys] for c in ctx["coverage"]])
        lines.append("")
    notes = ctx["notes"] + [f"{r['name']}: {n}" for r in ctx["runs"] for n in r["notes"]]
    if notes:
        lines += ["### Notes", ""] + [f"- {inline(n)}" for n in notes] + [""]
    return lines


def _plots_section(report: Any, links: dict[str, str]) -> list[str]:
    """Each plot as a linked PNG under its title, with its caption."""
    if not report.plots:
        return []
    lines = ["## Plots", ""]
    for plot in report.plots:
        lines += [f"### {inline(plot.title)}", "",
                  f"![{cell(plot.title)}]({_link(links[plot.id])})", "",
                  inline(plot.caption), ""]
    return lines


def _examples_section(ctx: dict[str, Any]) -> list[str]:
    """Example responses per run and suite; model text fenced, reasoning collapsed."""
    if not ctx["examples"]:
        return []
    lines = ["## Example responses", ""]
    for run in ctx["examples"]:
        lines += [f"### {inline(run['run'])}", ""]
        for suite in run["suites"]:
            lines += [f"#### {inline(suite['title'])}", ""]
            for ex in suite["examples"]:
                lines += _example(ex)
    return lines


def _example(ex: Any) -> list[str]:
    grade = "; ".join(f"{cell(k)}: {cell(v)}" for k, v in ex.grade)
    lines = [f"**{inline(ex.why)}** — prompt {inline(ex.item_id)} — {grade}", "",
             "Prompt:", "", fenced(ex.prompt), ""]
    if ex.reasoning:
        lines += ["<details><summary>Reasoning</summary>", "", fenced(ex.reasoning), "",
                  "</details>", ""]
    return lines + ["Answer:", "", fenced(ex.answer), ""]
