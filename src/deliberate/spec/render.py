"""Markdown rendering of a spec and of its per-category excerpts, spec(category).

The rendered text is what models see, so it is deterministic (its hash keys the cache and tells
which samples a spec edit touched) and every rule and definition is shown with its id so it can
be cited. As in the paper, an excerpt holds the shared parts (preamble, definitions, style
guidelines), a short summary of every category, and the full rules and examples of the request's
own categories only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deliberate.spec.elements import Category, Example, Rule
    from deliberate.spec.model import Spec

_MODE_LABEL = {"comply": "comply", "safe_complete": "safe-complete", "refuse": "refuse"}
_MODE_ORDER = {"comply": 0, "safe_complete": 1, "refuse": 2}
"""Rules render allowed uses first, then partial answers, then refusals, whatever their numbers
(ids stay stable when a rule is added, so a new allowed use may carry a higher number)."""
GLANCE_TITLE = "## Categories at a glance"
_GLANCE_INTRO = ("Every category of this spec in brief. When a request falls in a category, that "
                 "category's full rules and examples decide it.")


def render_spec(spec: Spec) -> str:
    """Whole spec: shared parts, the summaries, then every category in full."""
    parts = [*_shared_parts(spec), *[_category_section(c) for c in spec.categories]]
    return _join(parts)


def render_summary(spec: Spec) -> str:
    """The spec in brief: header and preamble, style guidelines and a summary of every category,
    without definitions or the categories' full rules. For putting a spec in context where the
    whole of it does not fit (a small model's window, a CPU's budget); not the paper's baseline."""
    return _join([_header(spec), _style_section(spec), _glance_section(spec)])


def render_excerpt(spec: Spec, category_ids: list[str]) -> str:
    """spec(categories): shared parts + summaries + the given categories (``none`` adds none)."""
    from deliberate.spec.model import NONE_CATEGORY

    parts = _shared_parts(spec)
    for category_id in dict.fromkeys(category_ids):
        if category_id != NONE_CATEGORY:
            parts.append(_category_section(spec.category(category_id)))
    return _join(parts)


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def _shared_parts(spec: Spec) -> list[str]:
    return [_header(spec), _definitions_section(spec), _style_section(spec), _glance_section(spec)]


def _header(spec: Spec) -> str:
    lines = [f"# Safety spec: {spec.name} (version {spec.version})", "", spec.description.strip()]
    if spec.preamble.strip():
        lines += ["", "## General principles", "", spec.preamble.strip()]
    return "\n".join(lines)


def _definitions_section(spec: Spec) -> str:
    if not spec.definitions:
        return ""
    lines = ["## Definitions", ""]
    for d in spec.definitions:
        lines.append(f"- **[{d.id}]** *{d.term}*: {_indent_rest(d.text.strip())}")
    return "\n".join(lines)


def _style_section(spec: Spec) -> str:
    lines = ["## Style guidelines"]
    for style in spec.style_guidelines:
        lines += ["", f"### [{style.id}] {style.title}", "", style.text.strip()]
    return "\n".join(lines)


def _glance_section(spec: Spec) -> str:
    lines = [GLANCE_TITLE, "", _GLANCE_INTRO, ""]
    lines += [f"- **{c.title}**: {category_summary_text(c)}" for c in spec.categories]
    return "\n".join(lines)


def category_summary_text(category: Category) -> str:
    """One paragraph: covers / allowed / not allowed; a format-1 spec falls back to the
    description (never to rule text, so that editing a rule changes only its own excerpt)."""
    s = category.summary
    if s is None:
        return _one_line(category.description)
    return (f"{_one_line(s.covers)} *Allowed:* {_one_line(s.allowed)} "
            f"*Not allowed:* {_one_line(s.disallowed)}")


def _category_section(category: Category) -> str:
    lines = [f"## Category: {category.title} (`{category.id}`)", "", category.description.strip()]
    lines += ["", "### Rules"]
    for rule in sorted(category.rules, key=lambda r: _MODE_ORDER[r.mode.value]):
        lines += ["", _rule_item(rule)]
    if category.examples:
        lines += ["", "### Examples", ""]
        lines += [_example_item(ex) for ex in category.examples]
    return "\n".join(lines)


def _rule_item(rule: Rule) -> str:
    tags = [_MODE_LABEL[rule.mode.value]]
    if rule.severity is not None:
        tags.append(f"severity: {rule.severity.value}")
    if rule.operator_configurable:
        tags.append("operator-configurable")
    text = f"- **[{rule.id}]** ({'; '.join(tags)}) {_indent_rest(rule.text.strip())}"
    if rule.operator_configurable and rule.operator_mode is not None and rule.operator_note:
        when = _MODE_LABEL[rule.operator_mode.value]
        text += f"\n  *Operator setting ({when} when enabled):* {_indent_rest(rule.operator_note.strip())}"
    return text


def _example_item(ex: Example) -> str:
    cite = f", per {ex.rule}" if ex.rule else ""
    pair = f" (borderline pair: {ex.pair})" if ex.pair else ""
    prompt = " ".join(ex.prompt.split())
    line = f"- \"{prompt}\" -> {_MODE_LABEL[ex.mode.value]}{cite}{pair}"
    if ex.reference_answer:
        line += f"\n  *Reference answer:* {_indent_rest(ex.reference_answer.strip())}"
    return line


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _indent_rest(text: str) -> str:
    """Keep multi-line text inside its Markdown list item."""
    return text.replace("\n", "\n  ")
