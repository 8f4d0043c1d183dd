"""The specs we ship: they validate, cover the paper's categories and cite cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deliberate.spec import ResponseMode, default_spec_path, load_spec

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [default_spec_path(), *sorted((REPO / "examples" / "specs").glob("*.yaml"))]
PAPER_CATEGORIES = {
    "erotic", "extremism", "harassment", "illicit_behavior",
    "regulated_advice", "self_harm", "violence", "privacy",
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_spec_validates(path):
    spec = load_spec(path)
    assert {"style.refusal", "style.safe_completion", "style.compliance"} <= {
        s.id for s in spec.style_guidelines
    }
    for category in spec.categories:
        numbers = [int(r.id.rsplit(".", 1)[1]) for r in category.rules]
        assert numbers == list(range(1, len(numbers) + 1)), f"{category.id} numbering"
        for example in category.examples:
            if example.rule:
                assert spec.rules_by_id[example.rule].mode == example.mode, example.prompt


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_spec_lints_clean(path):
    from deliberate.spec.lint import lint_spec

    assert lint_spec(load_spec(path)).findings == []


def test_default_spec_covers_paper_categories():
    spec = load_spec("default")
    assert PAPER_CATEGORIES <= set(spec.category_ids)
    for category in spec.categories:
        modes = {r.mode for r in category.rules}
        # every category separates what is allowed from what is not
        assert ResponseMode.comply in modes, category.id
        assert modes & {ResponseMode.refuse, ResponseMode.safe_complete}, category.id
        assert category.examples, category.id


def test_default_excerpt_rules_are_citable():
    excerpt = load_spec("default").for_category("violence")
    ids = re.findall(r"\*\*\[(violence\.\d+)\]\*\*", excerpt)
    assert ids and ids[0] == "violence.1"


def test_example_spec_exists():
    assert len(SHIPPED) >= 2


V2_CATEGORIES = PAPER_CATEGORIES | {
    "cbrn", "child_safety", "misinformation", "intellectual_property", "agentic",
}
REQUIRED_TERMS = {
    "def.meaningful_uplift", "def.real_person", "def.public_figure", "def.common_knowledge",
    "def.operational_detail", "def.minor", "def.wrapper", "def.untrusted_content",
}


def test_default_spec_is_v2():
    spec = load_spec("default")
    assert spec.spec_format == 2 and spec.version.startswith("2.")
    assert set(spec.category_ids) == V2_CATEGORIES
    assert REQUIRED_TERMS <= set(spec.definitions_by_id)
    for category in spec.categories:
        assert category.summary is not None, category.id
        assert category.pairs, category.id
        assert all(e.reference_answer for e in category.examples), category.id
        exercised = {e.rule for e in category.examples}
        assert exercised == {r.id for r in category.rules}, category.id


def test_default_spec_keeps_every_id_the_seed_data_cites():
    """Seed chains of thought cite v1 ids; spec v2 kept every one of them, with its meaning."""
    spec = load_spec("default")
    seeds = (REPO / "src" / "deliberate" / "data" / "seed_examples.jsonl").read_text()
    cited = set(re.findall(r"\b(?:style\.[a-z_]+|[a-z_]+\.[1-9][0-9]*)\b", seeds))
    assert len(cited) > 50
    assert sorted(cited - set(spec.rules_by_id)) == []


def test_default_spec_severity_and_operator_options():
    spec = load_spec("default")
    cbrn = {r.severity.value for r in spec.category("cbrn").rules}
    assert {"low", "elevated", "critical"} <= cbrn
    critical = [r for r in spec.category_rules.values() if r.severity and r.severity.value == "critical"]
    assert {r.id.split(".")[0] for r in critical} == {"cbrn", "child_safety", "erotic"}
    assert all(r.mode is ResponseMode.refuse and not r.operator_configurable for r in critical)
    configurable = {r.id for r in spec.category_rules.values() if r.operator_configurable}
    assert "erotic.5" in configurable
    assert spec.rules_by_id["erotic.5"].operator_mode is ResponseMode.comply
    excerpt = spec.for_category("erotic")
    assert "**[erotic.5]** (refuse; operator-configurable)" in excerpt


def test_default_preamble_judges_the_request_not_the_wrapper():
    spec = load_spec("default")
    assert "not its wrapper" in spec.preamble and "base64" in spec.definitions_by_id["def.wrapper"].text
    assert "def.over_refusal" in spec.preamble
