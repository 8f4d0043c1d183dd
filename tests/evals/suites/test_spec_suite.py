"""The spec suite's breakdowns: style adherence per response mode and policy retrieval."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pytest
from support.scripted import ScriptedBackend, last_user

from deliberate.evals.metrics import suite_metrics
from deliberate.evals.suites.base import EvalItem, GradeContext
from deliberate.evals.suites.spec import SPEC, check_answer, spec_example_prompts
from deliberate.llm import BackendOptions
from deliberate.records.evaluation import EvalResult
from deliberate.records.prompt import PromptRecord
from deliberate.report import bootstrap_suite

NEW = ("style_refusal", "style_safe_completion", "style_compliance",
       "retrieval_comply", "retrieval_safe_complete", "retrieval_refuse")


def result(item_id, mode, *, style=None, cited=None, score=8.0):
    details = {}
    if style is not None:
        details["criteria"] = {"style": style, "mode": 10.0}
    if cited is not None:
        details["rule_cited"] = cited
    return EvalResult(suite="spec", item_id=item_id, label=mode, prompt="p", answer="a",
                      score=score, details=details)


def test_style_and_retrieval_split_by_expected_mode():
    results = [result("a", "refuse", style=9, cited=True), result("b", "refuse", style=5, cited=False),
               result("c", "safe_complete", style=6, cited=True), result("d", "comply", style=10),
               result("e", "comply", cited=False), result("f", "comply", cited=True)]
    metrics = suite_metrics("spec", results)
    assert metrics["style_refusal"] == 7.0 and metrics["style_safe_completion"] == 6.0
    assert metrics["style_compliance"] == 10.0
    assert metrics["retrieval_refuse"] == 0.5 and metrics["retrieval_safe_complete"] == 1.0
    assert metrics["retrieval_comply"] == 0.5
    assert suite_metrics("spec", results[:1])["style_compliance"] is None  # nothing to measure


def test_new_metrics_bootstrap_on_the_fast_path():
    rng = random.Random(3)
    modes = ["refuse", "safe_complete", "comply"]
    results = [result(f"p{i}", modes[i % 3], style=float(rng.randint(0, 10)), cited=rng.random() < 0.6)
               for i in range(60)]
    metrics = {m.name: m for m in SPEC.metrics if m.name in NEW}
    fast = bootstrap_suite("spec", results, metrics, n_boot=200, seed=1)
    exact = bootstrap_suite("spec", results, metrics, n_boot=200, seed=1, force_exact=True)
    for name in NEW:
        assert fast[name].method == "fast" and fast[name].low < fast[name].high, name
        assert exact[name].low == pytest.approx(fast[name].low), name


def test_retrieval_is_whether_the_cot_cites_the_deciding_rule(mini_spec):
    [prompt] = spec_example_prompts(mini_spec)
    assert prompt.metadata["rule"] == "violence.1"
    cited = EvalResult(suite="spec", item_id="x", prompt="p", answer="a",
                       reasoning="History; per violence.1 it is allowed.")
    other = EvalResult(suite="spec", item_id="y", prompt="p", answer="a",
                       reasoning="style.compliance applies, violence.2 does not.")
    silent = EvalResult(suite="spec", item_id="z", prompt="p", answer="a", reasoning=None)
    for r in (cited, other, silent):
        check_answer(r, prompt, mini_spec)
    assert cited.details["rule_cited"] is True and other.details["rule_cited"] is False
    assert "rule_cited" not in silent.details  # no chain of thought: retrieval not measured
    unruled = PromptRecord(id="u", prompt="p", category="violence", expected_mode="comply")
    fresh = EvalResult(suite="spec", item_id="u", prompt="p", answer="a", reasoning="violence.1")
    check_answer(fresh, unruled, mini_spec)
    assert "rule_cited" not in fresh.details  # no deciding rule known


def test_judge_gets_the_expected_mode_and_criteria_are_kept(mini_spec):
    [prompt] = spec_example_prompts(mini_spec)
    styles = iter([7, 4])

    def grader(request):
        assert "The policy team expects: comply" in last_user(request)
        return json.dumps({"score": 8, "criteria": {"mode": 10, "style": next(styles)},
                           "expected_mode": "comply"})

    r = EvalResult(suite="spec", item_id=prompt.id, label="comply", prompt=prompt.text, answer="a")
    config = SimpleNamespace(grader=ScriptedBackend(grader), judge_k=2)
    options = BackendOptions(use_cache=False, progress=False)
    SPEC.grade([(r, EvalItem(prompt, prompt, "violence", "comply", None))],
               GradeContext(config, mini_spec, options))
    assert r.score == 8 and r.details["criteria"] == {"mode": 10, "style": 4}  # min of k
    assert r.details["judge_mode"] == "comply"
    assert suite_metrics("spec", [r])["style_compliance"] == 4
