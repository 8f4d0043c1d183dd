"""The report's comparison pieces: comparability per metric, paired examples, bars with n."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("numpy")

from deliberate.evals.metrics import suite_metrics
from deliberate.evals.suites import SPEC, STRONGREJECT, XSTEST, Bars
from deliberate.evals.suites.strongreject import prompts_by_technique
from deliberate.records.evaluation import EvalResult
from deliberate.records.provenance import Provenance
from deliberate.report.compare import comparability
from deliberate.report.figures import _counts
from deliberate.report.load import Run
from deliberate.report.pairs import assess, pick_pairs
from deliberate.report.plots import _bar_label

OFFICIAL = {"jailbreaks": ["none", "base64"], "official": True, "dropped": [],
            "comparability": "StrongREJECT (official jailbreaks)"}


def run_of(name: str, results: dict[str, list[EvalResult]], *, config: dict | None = None,
           suites: dict | None = None) -> Run:
    details = {"suites": suites} if suites is not None else {}
    manifest = Provenance(kind="eval", status="done", config=config or {}, details=details)
    return Run(name=name, path=Path(name), manifest=manifest, results=results)


def test_strongreject_is_comparable_only_with_the_official_jailbreaks_data_and_rubric() -> None:
    def verdict(details, config=None, metric="goodness@0.1"):
        return STRONGREJECT.comparability(metric, details, config or {})

    ok, why = verdict(OFFICIAL | {"rubric_official": True}, {"grader": "openai/g", "limit": 50})
    assert ok and why == ("official jailbreaks and rubric; graded by openai/g; on a random "
                          "subsample of 50 prompts (wider intervals)")
    assert verdict(OFFICIAL) == (True, "official jailbreaks")  # rubric/data keys are optional
    not_official = OFFICIAL | {"official": False,
                               "comparability": "StrongREJECT-style, not comparable: extras"}
    assert verdict(not_official) == (False, "StrongREJECT-style, not comparable: extras")
    assert verdict(OFFICIAL | {"data": {"sha256": "ab", "official": False}})[0] is False
    assert verdict(OFFICIAL | {"rubric_official": False}) == (False, "not the official rubric")
    assert verdict({})[0] is False  # an older run that recorded nothing
    assert verdict(OFFICIAL, metric="refusal_rate")[0] is False


def test_xstest_and_spec_comparability() -> None:
    ok, why = XSTEST.comparability("not_overrefuse", {}, {"grader": None})
    assert not ok and why == "automatic grader; agreement with XSTest's human labels: see README"
    assert XSTEST.comparability("not_overrefuse", {}, {"grader": "openai/g"})[0]
    assert not XSTEST.comparability("not_overrefuse", {"data": {"official": False}},
                                    {"grader": "openai/g"})[0]
    assert SPEC.comparability("mode_agreement", {}, {}) == (False, "specific to your spec")


def test_a_suite_without_a_comparability_method_is_not_stated() -> None:
    class Bare:
        name = "bare"

    run = run_of("r", {})
    bare = Bare()
    assert comparability(run, bare, "m") == (False, "not stated by the suite")  # type: ignore
    run = run_of("r", {}, suites={"strongreject": OFFICIAL})
    assert comparability(run, STRONGREJECT, "goodness@0.1") == (True, "official jailbreaks")


def sr(item: str, jb: str, score: float | None, refusal: str, answer: str = "a") -> EvalResult:
    return EvalResult(suite="strongreject", item_id=item, group=jb, request=f"request {item}",
                      prompt=f"request {item}" if jb == "none" else f"[{jb}] request {item}",
                      answer=answer, score=score, refusal=refusal)


def test_paired_examples_pick_changed_grades_both_ways() -> None:
    before = [sr("p1", "base64", 0.9, "compliance", "harmful"), sr("p2", "none", 0.0, "refusal"),
              sr("p3", "none", 0.2, "compliance"), sr("p4", "none", 0.5, "compliance")]
    after = [sr("p1", "base64", 0.0, "refusal", "no"), sr("p2", "none", 0.6, "compliance"),
             sr("p3", "none", 0.2, "compliance"), sr("p5", "none", 0.9, "compliance")]
    assert assess(STRONGREJECT, before[0], after[0])[:2] == (3, 0)  # all three metrics better
    assert assess(STRONGREJECT, before[2], after[2]) == (0, 0, 0.0)
    base, later = run_of("base", {"strongreject": before}), run_of("new", {"strongreject": after})
    section = pick_pairs(STRONGREJECT, base, later, {"base": "#111", "new": "#222"}, k=3)
    assert section.summary == "2 of 3 paired answers changed grade: 1 better, 1 worse"
    first, second = section.pairs
    assert (first.item_id, first.tone, second.item_id, second.tone) == ("p1", "good", "p2", "bad")
    assert "harm score: 0.900 → 0.000" in first.change
    assert "refusal label: compliance → refusal" in first.change
    assert first.prompts == [("Original request", "request p1"),
                             ("Sent to the model (jailbreak: base64)", "[base64] request p1")]
    assert second.prompts == [("Prompt", "request p2")]  # no jailbreak: one prompt
    assert (first.before.answer, first.after.answer) == ("harmful", "no")
    assert pick_pairs(STRONGREJECT, base, run_of("x", {}), {"base": "", "x": ""}) is None


def test_results_written_before_request_was_recorded_still_load() -> None:
    old = '{"suite": "strongreject", "item_id": "a", "prompt": "p", "answer": "x"}'
    assert EvalResult.model_validate_json(old).request is None


def test_bars_carry_their_n() -> None:
    results = [sr("p1", "none", 0.1, "refusal"), sr("p2", "none", 0.3, "compliance"),
               sr("p1", "bon_0", 0.2, "refusal"), sr("p1", "bon_1", 0.9, "compliance"),
               sr("p2", "bon_0", None, "refusal")]
    assert prompts_by_technique(results) == {"none": 2, "best_of_n": 1}
    run = run_of("r", {"strongreject": results})
    by_jailbreak, refusal = STRONGREJECT.bars
    assert _counts(run, "strongreject", by_jailbreak) == {"none": 2, "best_of_n": 1}
    assert _counts(run, "strongreject", refusal) == {"none": 2, "bon_0": 2, "bon_1": 1}
    assert _counts(run, "other", refusal) == {}
    assert _bar_label(0.4167, 16) == " 0.42 (n=16)" and _bar_label(None, 3) == " n/a (n=3)"
    assert _bar_label(0.5, None) == " 0.50"
    assert isinstance(refusal, Bars) and refusal.values(results)["bon_1"] == 0.0


def test_xstest_safe_and_unsafe_types_have_their_own_bars() -> None:
    results = [EvalResult(suite="xstest", item_id=f"x{i}", group=group, label=label, prompt="p",
                          answer="a", refusal=refusal)
               for i, (group, label, refusal) in enumerate([
                   ("homonyms", "safe", "compliance"), ("homonyms", "safe", "refusal"),
                   ("contrast_homonyms", "unsafe", "compliance"),
                   ("contrast_homonyms", "unsafe", "refusal")])]
    metrics = suite_metrics("xstest", results)
    assert metrics["per_type"] == {"homonyms": 0.5}
    assert metrics["per_contrast_type"] == {"contrast_homonyms": 0.5}
    safe, unsafe = XSTEST.bars
    assert "higher is better" in safe.xlabel and "lower is better" in unsafe.xlabel
