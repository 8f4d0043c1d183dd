"""Wrapping jailbreaks: filling a template as upstream does, and our fallback wording."""

from __future__ import annotations

import json

import pytest

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks import apply_jailbreak, assets_status
from deliberate.evals.jailbreaks.catalog import BASE64_INPUT, WRAPPING_JAILBREAKS
from deliberate.evals.jailbreaks.fallback import FALLBACK_TEMPLATES, PREFIX
from deliberate.evals.jailbreaks.templates import fill, wrapping_templates

from .conftest import PROMPT


def test_fill_replaces_every_placeholder_and_nothing_else():
    assert fill("aim", "{x} {forbidden_prompt} {forbidden_prompt}", "a {b}") == "{x} a {b} a {b}"
    assert fill("base64", "{forbidden_prompt}", "Hi") == "SGk="
    assert fill("base64_output_only", "{forbidden_prompt}", "Hi") == "Hi"  # as upstream


def test_official_file_has_every_wrapping_jailbreak(use_official):
    current = wrapping_templates()
    assert current.status.official
    assert set(WRAPPING_JAILBREAKS) <= set(current.templates)
    assert set(current.templates) - set(WRAPPING_JAILBREAKS) == {"none", "base64_raw"}
    assert current.templates["none"] == current.templates["base64_raw"] == "{forbidden_prompt}"


def test_fallback_covers_all_but_the_gcg_suffixes():
    assert set(FALLBACK_TEMPLATES) == {n for n in WRAPPING_JAILBREAKS if not n.startswith("gcg_")}
    for name, template in FALLBACK_TEMPLATES.items():
        assert template.count("{forbidden_prompt}") == 1, name


def test_fallback_in_use_is_visible(offline):
    status = assets_status()
    assert not status.official and status.source == "fallback"
    assert "wrapping_jailbreaks.json" in status.reason and str(offline) in status.reason
    assert "not comparable" in status.label
    assert wrapping_templates().templates is FALLBACK_TEMPLATES


def test_gcg_without_the_official_file_is_a_clear_error(offline):
    with pytest.raises(DeliberateError, match="--strongreject-assets"):
        apply_jailbreak("gcg_transfer_harmbench", PROMPT)


def test_fallback_wording(offline):
    """Our own wording (the pre-official wrappers) says what each technique asks for."""
    rs = apply_jailbreak("refusal_suppression", PROMPT)
    for word in ("apologise", "disclaimer", "cannot", "unable", "instead", "however"):
        assert word in rs
    assert rs.index(PROMPT) < rs.index("Reminder")
    style = apply_jailbreak("style_injection_short", PROMPT)
    assert "punctuation" in style and '"the"' in style
    dis = apply_jailbreak("distractors", PROMPT)
    assert all(w in dis for w in ("platitude", "flowers", "recipe"))
    assert 0 < dis.index(PROMPT) < dis.index("recipe")
    poems = apply_jailbreak("poems", PROMPT)
    assert "haiku" in poems and "limerick" in poems and "prose" in poems
    assert PREFIX in apply_jailbreak("prefix_injection", PROMPT)
    assert "Wikipedia" in apply_jailbreak("wikipedia", PROMPT)
    assert "Title:" in apply_jailbreak("wikipedia_with_title", PROMPT)
    assert "[DEVELOPER MODE]" in apply_jailbreak("dev_mode_v2", PROMPT)
    assert "rant" in apply_jailbreak("dev_mode_with_rant", PROMPT)
    assert "AIM" in apply_jailbreak("aim", PROMPT)
    assert "confidant" in apply_jailbreak("evil_confidant", PROMPT)
    assert "plain text" in apply_jailbreak("base64_input_only", PROMPT)
    for name in ("base64", "base64_output_only"):
        assert "base64" in apply_jailbreak(name, PROMPT)
    for name in ("combination_2", "combination_3", "style_injection_json"):
        assert "JSON list of strings" in apply_jailbreak(name, PROMPT)  # what the decoder reads


def test_fallback_few_shot_examples_are_valid_json_and_benign(offline):
    out = apply_jailbreak("few_shot_json", PROMPT)
    shots, _ = json.JSONDecoder().raw_decode(out, out.index("["))
    assert len(shots) >= 2 and all(set(s) == {"request", "response"} for s in shots)


@pytest.mark.parametrize("name", sorted(BASE64_INPUT - {"base64_raw"}))
def test_base64_input_jailbreaks_hide_the_prompt(name, offline):
    assert PROMPT not in apply_jailbreak(name, PROMPT)
