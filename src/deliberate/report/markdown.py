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
    lines = ["# deliberate evaluation report", "",
             (f"Generated {ctx['generated']} by deliberate {ctx['version']}; "
             f"{ctx['n_boot']} bootstrap resamples of prompts, seed {ctx['seed']}."), "",
             HOW_TO_READ, ""]

    lines += ["## Runs", ""]
    lines += _table(
        ["run", "model", "weights", "suites", "samples", "grader", "spec", "jailbreaks", "created"],
        [[cell(r["name"]), cell(r["model"]), cell(r["fingerprint"]), cell(r["suites"]), cell(r["samples"]), cell(r["grader"]),
          cell(r["spec"]), cell(r["jailbreaks"]), cell(r["created"])] for r in ctx["runs"]])
    lines.append("")

    lines += ["## Metrics", ""]
    if ctx["rows"] and ctx["suites"]:
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
        lines.append("")
    else:
        lines += ["No metrics to show.", ""]

    if ctx["coverage"]:
        lines += ["### Coverage", ""]
        lines += _table(["run", "suite", "prompts", "results", "groups", "errors", "source"],
                        [[cell(c[k]) for k in ("run", "suite", "prompts", "results", "groups", "errors", "source")]
                         for c in ctx["coverage"]])
        lines.append("")

    notes = ctx["notes"] + [f"{r['name']}: {n}" for r in ctx["runs"] for n in r["notes"]]
    if notes:
        lines += ["### Notes", ""] + [f"- {inline(n)}" for n in notes] + [""]

    if report.plots:
        lines += ["## Plots", ""]
        for plot in report.plots:
            lines += [f"### {inline(plot.title)}", "", f"![{cell(plot.title)}]({_link(links[plot.id])})", "",
                      inline(plot.caption), ""]

    if ctx["examples"]:
        lines += ["## Example responses", ""]
        for run in ctx["examples"]:
            lines += [f"### {inline(run['run'])}", ""]
            for suite in run["suites"]:
                lines += [f"#### {inline(suite['title'])}", ""]
                for ex in suite["examples"]:
                    grade = "; ".join(f"{cell(k)}: {cell(v)}" for k, v in ex.grade)
                    lines += [f"**{inline(ex.why)}** — prompt {inline(ex.item_id)} — {grade}", "",
                              "Prompt:", "", fenced(ex.prompt), ""]
                    if ex.reasoning:
                        lines += ["<details><summary>Reasoning</summary>", "", fenced(ex.reasoning), "",
                                  "</details>", ""]
                    lines += ["Answer:", "", fenced(ex.answer), ""]
    return "\n".join(lines).rstrip() + "\n"
