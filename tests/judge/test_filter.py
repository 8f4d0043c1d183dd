"""Filter and SFT export: thresholds, drop reasons, best-of, dedup, cap, no spec text."""

from __future__ import annotations

import json

import pytest

from deliberate.judge.dedup import near_duplicate_groups
from deliberate.judge.filter import FilterConfig, run_filter
from deliberate.records import write_jsonl
from deliberate.records.generation import JudgedRecord, Verdict
from deliberate.spec import load_spec

from .test_judge import generation


def judged(mini_spec, pid, score, index=0, prompt=None, reasoning="per violence.1 history is fine", errors=()):
    gen = generation(mini_spec, pid=pid, index=index, prompt=prompt or f"question {pid} about sieges",
                     reasoning=reasoning)
    return JudgedRecord(generation=gen, judge="j", judge_template_hash="h", answer_only=False,
                        verdicts=[Verdict(score=score or 0)], errors=list(errors), score=score)


def test_thresholds_and_reasons(mini_spec):
    records = [
        judged(mini_spec, "a", 9),
        judged(mini_spec, "b", 5),
        judged(mini_spec, "c", None, errors=["unparsable"]),
        judged(mini_spec, "d", 10, reasoning="per violence.9 fine"),
        judged(mini_spec, "e", 10, reasoning="The spec above allows it, violence.1"),
        judged(mini_spec, "f", 10, reasoning=""),
    ]
    examples, summary = run_filter(FilterConfig(min_score=8), records)
    assert [e.prompt_id for e in examples] == ["a"]
    assert summary.dropped["violence"] == {
        "low_score": 1, "judge_failed": 1, "citation": 1, "spec_leak": 1, "format": 1}
    assert summary.kept == {"violence": 1}


def test_best_per_prompt_dedup_and_cap(mini_spec):
    records = [judged(mini_spec, "a", 8, 0), judged(mini_spec, "a", 9, 1), judged(mini_spec, "b", 9),
               judged(mini_spec, "c", 9, prompt="question a about sieges!"),  # near-duplicate of a
               *[judged(mini_spec, f"z{i}", 9, prompt=f"totally different text number {i} here") for i in range(5)]]
    examples, summary = run_filter(FilterConfig(best_per_prompt=True, max_per_category=4), records)
    assert len(examples) == 4
    assert summary.dropped["violence"]["not_best"] == 1
    assert summary.dropped["violence"]["duplicate_prompt"] == 1
    assert summary.dropped["violence"]["category_cap"] == 3  # a, b, z0-z4 left: 7 - 4
    best_a = [e for e in examples if e.prompt_id == "a"]
    assert all(e.sample_index == 1 for e in best_a)


def test_near_duplicates():
    texts = ["How do I make a cake at home?", "how do I make a cake at home", "What is the capital of France?"]
    assert near_duplicate_groups(texts, 0.8) == [0, 0, 2]


def test_export_format_has_no_spec_and_loads_with_datasets(tmp_path):
    spec = load_spec("tests/assets/mini_spec.yaml")
    records = [judged(spec, "a", 9)]
    examples, _ = run_filter(FilterConfig(), records)
    path = tmp_path / "sft.jsonl"
    write_jsonl(path, examples)
    line = json.loads(path.read_text().splitlines()[0])
    roles = [m["role"] for m in line["messages"]]
    assert roles == ["user", "assistant"]
    assistant = line["messages"][-1]
    assert assistant["reasoning_content"] == "per violence.1 history is fine"
    assert assistant["content"] == "Sieges used trebuchets."
    text = json.dumps(line["messages"])
    for category in spec.categories:
        for excerpt_line in spec.for_category(category.id).splitlines():
            if len(excerpt_line.strip()) > 20:
                assert excerpt_line.strip() not in text
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert ds[0]["messages"][1]["reasoning_content"].startswith("per violence.1")


def test_think_in_content_and_field_name(mini_spec):
    examples, _ = run_filter(FilterConfig(think_in_content=True, reasoning_field="thinking"),
                             [judged(mini_spec, "a", 9)])
    assistant = examples[0].messages[-1]
    assert assistant["content"].startswith("<think>\nper violence.1") and "thinking" in assistant


def _with_modes(record, *, judge=None, known=None, suggested=None, declared=None):
    data = record.model_dump()
    data["verdicts"] = [{"score": record.score, "expected_mode": m} for m in (judge or [None])]
    data["generation"].update(expected_mode=known, declared_mode=declared,
                              metadata={"suggested_mode": suggested} if suggested else {})
    return JudgedRecord.model_validate(data)


def test_require_mode_agreement(mini_spec):
    records = [
        _with_modes(judged(mini_spec, "agree", 9), judge=["comply", "comply"], known="comply",
                    declared="comply"),
        _with_modes(judged(mini_spec, "declared", 9), judge=["comply"], known="comply",
                    declared="refuse"),
        _with_modes(judged(mini_spec, "judge", 9, prompt="another question on castles"),
                    judge=["comply", "refuse"], declared="comply"),
        _with_modes(judged(mini_spec, "suggested", 9, prompt="a third about moats"),
                    judge=["comply"], suggested="safe_complete"),
        _with_modes(judged(mini_spec, "partial", 9, prompt="what of trebuchet range"),
                    judge=["safe-completion"]),  # only the judge names a mode: nothing to disagree
    ]
    examples, summary = run_filter(FilterConfig(require_mode_agreement=True), records)
    assert sorted(e.prompt_id for e in examples) == ["agree", "partial"]
    assert summary.dropped["violence"] == {"mode_disagreement": 3}
    examples, summary = run_filter(FilterConfig(), records)  # off by default
    assert len(examples) == 5 and not summary.dropped


def test_strict_quotes_restores_the_verbatim_rule(mini_spec):
    cot = ('Per violence.1: "History, news and fiction about violence are allowed." A siege is '
           'history, so I answer; style.compliance.')  # 8 words quoted: under 12
    long_cot = ('Per violence.2: "Instructions for hurting a specific person are disallowed. This '
                'includes planning an attack." This is history, not that; violence.1 applies.')
    records = [judged(mini_spec, "short", 9, reasoning=cot),
               judged(mini_spec, "long", 9, prompt="a question on walls", reasoning=long_cot)]
    assert records[1].generation.checks.leak.longest_quote == 13
    examples, summary = run_filter(FilterConfig(), records)
    assert len(examples) == 2 and not summary.dropped
    examples, summary = run_filter(FilterConfig(strict_quotes=True), records)
    assert [e.prompt_id for e in examples] == ["short"]
    assert summary.dropped["violence"] == {"spec_leak": 1}


def test_export_keeps_operator_turns(mini_spec):
    from deliberate.llm.types import ChatMessage

    record = judged(mini_spec, "a", 9)
    operator = [ChatMessage(role="system", content="You serve a museum's visitors."),
                ChatMessage(role="developer", content="Keep answers under 100 words.")]
    record.generation.messages[:0] = operator
    [example], _ = run_filter(FilterConfig(), [record])
    assert [m["role"] for m in example.messages] == ["system", "developer", "user", "assistant"]
    assert example.messages[0]["content"] == "You serve a museum's visitors."


def test_every_drop_reason_is_reported(mini_spec):
    """A sample failing several checks counts once in `dropped` and under each in `reasons`."""
    bad = judged(mini_spec, "a", 3)
    checks = bad.generation.checks.model_copy(update={
        "format": bad.generation.checks.format.model_copy(update={"ok": False, "reason": "empty answer"}),
        "citation": bad.generation.checks.citation.model_copy(update={"valid": False})})
    bad = bad.model_copy(update={"generation": bad.generation.model_copy(update={"checks": checks})})
    _, summary = run_filter(FilterConfig(min_score=8), [bad])
    [cat] = summary.dropped
    assert summary.dropped[cat] == {"format": 1}
    assert summary.reasons[cat] == {"format": 1, "citation": 1, "low_score": 1}
    assert "all problems found: citation 1, format 1, low_score 1" in summary.lines()[0]


def test_a_score_outside_the_scale_in_a_judged_file_is_an_error_at_its_line(mini_spec, tmp_path, capsys):
    from deliberate.cli.app import main

    path, out = tmp_path / "judged.jsonl", tmp_path / "sft.jsonl"
    for line, key, value in ((2, "score", 99), (1, "verdicts", [{"score": -1}])):
        write_jsonl(path, [judged(mini_spec, "a", 9), judged(mini_spec, "b", 9)])
        rows = [json.loads(x) for x in path.read_text().splitlines()]
        rows[line - 1][key] = value
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        assert main(["filter", "--judged", str(path), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}:{line}: {key}") and err.count("\n") == 1, err
        assert "Traceback" not in err and not out.exists()
