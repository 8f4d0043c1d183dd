"""The shipped seed set (v2): coverage, mode mix, split, and chains of thought that pass the
spec's own checks (citations fit the category, no context-bound references to a spec the student
never sees) and end with the ``Response mode:`` line a parser reads."""

from __future__ import annotations

import re
import statistics
from collections import Counter

import pytest

from deliberate.pipeline.demo_data import seed_examples
from deliberate.records.modes import NONE_CATEGORY
from deliberate.spec import load_spec
from deliberate.spec.checks import check_citations, check_leak, cited_ids

MODES = ("comply", "safe_complete", "refuse")
MODE_LINE = re.compile(r"^Response mode: (comply|safe_complete|refuse)$")


@pytest.fixture(scope="module")
def spec():
    return load_spec("default")


@pytest.fixture(scope="module")
def seeds():
    return seed_examples()


def test_schema_and_size(seeds):
    assert len(seeds) >= 420
    assert len({s["id"] for s in seeds}) == len(seeds)
    required = {"id", "category", "expected_mode", "split", "prompt", "reasoning", "answer"}
    optional = {"system", "rule"}
    for s in seeds:
        assert required <= set(s) <= required | optional, s["id"]
        assert s["expected_mode"] in MODES, s["id"]
        assert s["split"] in {"train", "eval"}, s["id"]
        assert isinstance(s["category"], list) and s["category"], s["id"]
        assert all(s[k].strip() for k in ("prompt", "reasoning", "answer")), s["id"]
        assert s.get("system", "x").strip(), s["id"]


def test_every_category_is_covered(seeds, spec):
    counts = Counter(c for s in seeds for c in s["category"])
    assert set(counts) == {*spec.category_ids, NONE_CATEGORY}
    assert min(counts[c] for c in spec.category_ids) >= 25, counts
    assert counts[NONE_CATEGORY] >= 60
    # benign prompts are benign only: "none" never shares a row with a real category
    assert all(s["category"] == [NONE_CATEGORY] for s in seeds if NONE_CATEGORY in s["category"])


def test_mode_mix_is_deployment_like(seeds):
    modes = Counter(s["expected_mode"] for s in seeds)
    assert modes["comply"] > len(seeds) / 2  # over-refusal is a failure: most requests are answered
    assert modes["comply"] > modes["safe_complete"] > modes["refuse"] > 0


def test_citations_fit_and_nothing_leaks(seeds, spec):
    for s in seeds:
        citation = check_citations(s["reasoning"], spec, s["category"])
        assert citation.unknown == [], (s["id"], citation.unknown)
        assert citation.valid, (s["id"], citation.cited)
        leak = check_leak(s["reasoning"], spec)
        assert leak.references == [], (s["id"], leak.references)
        assert not leak.leaked, (s["id"], leak.longest_quote)
        # ids belong in the reasoning, never in the answer
        assert [c for c in cited_ids(s["answer"]) if c in spec.rules_by_id] == [], s["id"]


def test_reasoning_ends_with_the_declared_mode(seeds):
    for s in seeds:
        lines = s["reasoning"].splitlines()
        assert lines[-1] == f"Response mode: {s['expected_mode']}", s["id"]
        assert sum(bool(MODE_LINE.match(line)) for line in lines) == 1, s["id"]


def test_reasoning_deliberates(seeds):
    words = [len(s["reasoning"].split()) for s in seeds]
    assert statistics.median(words) >= 60
    assert min(words) >= 30
    # not one template: openings vary
    openings = Counter(" ".join(s["reasoning"].split()[:3]) for s in seeds)
    assert openings.most_common(1)[0][1] <= len(seeds) // 20


def test_deciding_rule_matches_mode_and_category(seeds, spec):
    for s in seeds:
        if NONE_CATEGORY in s["category"]:
            assert "rule" not in s, s["id"]
            continue
        assert "rule" in s, s["id"]
        rule = spec.rules_by_id[s["rule"]]
        assert s["rule"].rsplit(".", 1)[0] in s["category"], s["id"]
        assert s["rule"] in cited_ids(s["reasoning"]), s["id"]
        if s["expected_mode"] != rule.mode.value:
            # only an operator's system turn changes a rule's mode, and only as far as it allows
            assert rule.operator_configurable and s.get("system"), s["id"]
            assert s["expected_mode"] == rule.operator_mode.value, s["id"]


def test_operator_turns(seeds, spec):
    with_system = [s for s in seeds if s.get("system")]
    assert len(with_system) >= 20
    configurable = {r.id for r in spec.category_rules.values() if r.operator_configurable}
    enabled = {s["rule"] for s in with_system
               if s.get("rule") in configurable and s["expected_mode"] == "comply"}
    assert enabled == configurable  # each operator option is shown switched on
    # ... and system prompts that try to unlock what no operator can get refused
    assert any(s["expected_mode"] == "refuse" and s["rule"].split(".")[0] in {"cbrn", "child_safety"}
               for s in with_system)


def test_eval_split_is_held_out_and_stratified(seeds, spec):
    held_out = [s for s in seeds if s["split"] == "eval"]
    assert 0.15 <= len(held_out) / len(seeds) <= 0.25
    groups = Counter((s["category"][0], s["expected_mode"]) for s in seeds)
    held = Counter((s["category"][0], s["expected_mode"]) for s in held_out)
    for group, n in groups.items():
        if n >= 5:
            assert held[group] >= 1, group
    assert {s["category"][0] for s in held_out} == {*spec.category_ids, NONE_CATEGORY}
    assert {s["expected_mode"] for s in held_out} == set(MODES)
