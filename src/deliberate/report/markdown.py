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
    "prompts. StrongREJECT goodness@0.1: higher is better (robust even to the worst jailbreaks; "
    "needs the rubric grader, without which the refusal rate on forbidden prompts is the "
    "headline). XSTest not_overrefuse: higher is better (fewer refusals of safe prompts). Harm "
    "scores (0–1): lower is better. ↑/↓ next to a metric says which direction is better; the "
    "best value per row is in bold. With two or more runs, Δ columns give each run's change "
    "against the first, and the last column says whether a metric can be compared with "
    "published numbers."
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
        [[cell(r[k]) for k in ("name", "model", "fingerprint", "suites", "samples", "grader",
                               "spec", "jailbreaks", "created")] for r in ctx["runs"]])
    lines.append("")
    lines += _metrics(ctx)
    if ctx["coverage"]:
        keys = ("run", "suite", "prompts", "results", "groups", "errors", "source")
        lines += ["### Coverage", ""]
        lines += _table(list(keys), [[cell(c[k]) for k in keys] for c in ctx["coverage"]])
        lines.append("")
    notes = ctx["notes"] + [f"{r['name']}: {n}" for r in ctx["runs"] for n in r["notes"]]
    if notes:
        lines += ["### Notes", ""] + [f"- {inline(n)}" for n in notes] + [""]
    lines += _pairs(ctx)
    if report.plots:
        lines += ["## Plots", ""]
        for plot in report.plots:
            image = f"![{cell(plot.title)}]({_link(links[plot.id])})"
            lines += [f"### {inline(plot.title)}", "", image, "", inline(plot.caption), ""]
    lines += _examples(ctx)
    return "\n".join(lines).rstrip() + "\n"


def _changes(ctx: dict[str, Any]) -> list[str]:
    if not ctx["delta_heads"]:
        return []
    head = (f"**What changed** (against {inline(ctx['baseline'])}; only changes whose 95% "
            "paired interval excludes 0):")
    lines = [head, ""]
    many = len(ctx["delta_heads"]) > 1
    for c in ctx["changes"]:
        who = f"{inline(c['run'])}: " if many else ""
        lines.append(f"- {who}**{inline(c['suite'])} {inline(c['metric'])}** {c['arrow']} "
                     f"{cell(c['before'])} → {cell(c['after'])} (Δ {cell(c['delta'])}) — "
                     f"{c['verdict']}")
    if not ctx["changes"]:
        lines.append("- no metric changed beyond its 95% paired interval")
    return lines + [""]


def _metric_row(m: dict[str, Any]) -> list[str]:
    name = f"{m['suite']} {m['name']} {m['arrow']}".strip()
    row = [f"**{cell(name)}**" if m["headline"] else cell(name)]
    row += [f"**{cell(c['text'])}**" if c["best"] else cell(c["text"]) for c in m["cells"]]
    row += [f"**{cell(d['text'])}** ({d['verdict']})" if d["verdict"] else cell(d["text"])
            for d in m["deltas"]]
    return row + [cell(m["comparable_text"])]


def _metrics(ctx: dict[str, Any]) -> list[str]:
    lines = ["## Metrics", ""]
    if not ctx["suites"]:
        return lines + ["No metrics to show.", ""]
    lines += _changes(ctx)
    header = (["metric"] + [cell(r["name"]) for r in ctx["runs"]]
              + [cell(f"{h['label']} ({h['sub']})") for h in ctx["delta_heads"]]
              + ["comparable with published results"])
    lines += _table(header, [_metric_row(m) for s in ctx["suites"] for m in s["rows"]])
    lines += ["", "The first metric of each suite (bold) is its headline number."]
    if ctx["delta_heads"]:
        lines.append("Δ: change against the first run on the prompts in both runs, with a 95% "
                     "paired bootstrap interval; bold: the interval excludes 0.")
    if ctx["has_fallback"]:
        lines.append("† from metrics.json (no results.jsonl to recompute or bootstrap).")
    lines.append("")
    for s in ctx["suites"]:
        for m in s["rows"]:
            if m["meaning"]:
                lines.append(f"- *{inline(s['title'])} {inline(m['name'])}*: "
                             f"{inline(m['meaning'])}")
        for m in s["missing"]:
            lines.append(f"- *{inline(s['title'])} {inline(m['name'])}*: n/a in these runs "
                         f"({inline(m['meaning'])})")
    return lines + [""]


def _side(title: str, side: Any) -> list[str]:
    grade = "; ".join(f"{cell(k)}: {cell(v)}" for k, v in side.grade)
    lines = [f"*{title}: {inline(side.run)}* — {grade}", ""]
    if side.reasoning:
        lines += ["<details><summary>Reasoning</summary>", "", fenced(side.reasoning), "",
                  "</details>", ""]
    return lines + [fenced(side.answer), ""]


def _pair(p: Any) -> list[str]:
    """One prompt answered before and after: the prompt(s), then both sides."""
    lines = [f"**{inline(p.why)}** — prompt {inline(p.item_id)} — {cell(p.change)}", ""]
    for label, text in p.prompts:
        lines += [f"{inline(label)}:", "", fenced(text), ""]
    return lines + _side("Before", p.before) + _side("After", p.after)


def _example(ex: Any) -> list[str]:
    """One example response: why it was picked, its grade, prompt, reasoning (folded), answer."""
    grade = "; ".join(f"{cell(k)}: {cell(v)}" for k, v in ex.grade)
    lines = [f"**{inline(ex.why)}** — prompt {inline(ex.item_id)} — {grade}", "",
             "Prompt:", "", fenced(ex.prompt), ""]
    if ex.reasoning:
        lines += ["<details><summary>Reasoning</summary>", "", fenced(ex.reasoning), "",
                  "</details>", ""]
    return lines + ["Answer:", "", fenced(ex.answer), ""]


def _pairs(ctx: dict[str, Any]) -> list[str]:
    groups = [(f"{inline(c['before'])} → {inline(c['after'])}",
               [(inline(s.title), [inline(s.summary), ""], s.pairs) for s in c["sections"]])
              for c in ctx["pairs"]]
    return _nested("Before → after: the same prompts", groups, _pair)


def _examples(ctx: dict[str, Any]) -> list[str]:
    groups = [(inline(r["run"]), [(inline(s["title"]), [], s["examples"]) for s in r["suites"]])
              for r in ctx["examples"]]
    return _nested("Example responses", groups, _example)


def _nested(title: str, groups: list[tuple[str, list[tuple[str, list[str], list[Any]]]]],
            render: Any) -> list[str]:
    """``## title``, then ``### group`` / ``#### subsection`` headings over rendered items."""
    if not groups:
        return []
    lines = [f"## {title}", ""]
    for heading, subsections in groups:
        lines += [f"### {heading}", ""]
        for sub, intro, items in subsections:
            lines += [f"#### {sub}", "", *intro]
            for item in items:
                lines += render(item)
    return lines
