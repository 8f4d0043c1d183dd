"""Judge validation: the shipped golden file, agreement metrics, and the CLI next to the stage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from support.loopback import LoopbackServer, scripted
from support.scripted import ScriptedBackend, last_user

from deliberate.cli.app import main
from deliberate.errors import DeliberateError
from deliberate.judge.validate import (
    ValidateConfig,
    default_golden_path,
    load_golden,
    validate_judge,
)
from deliberate.llm import BackendOptions
from deliberate.prompts import sections
from deliberate.records.modes import ResponseMode
from deliberate.spec import load_spec
from deliberate.spec.checks import cited_ids

OPTS = BackendOptions(use_cache=False, progress=False, backoff_base=0.0)


@pytest.fixture(scope="module")
def golden():
    return load_golden()


def test_shipped_golden_file_composition(golden):
    spec = load_spec("default")
    assert len(golden) >= 60 and len({g.id for g in golden}) == len(golden)
    cats = Counter(c for g in golden for c in g.category)
    assert set(cats) <= {*spec.category_ids, "none"} and all(cats[c] >= 5 for c in spec.category_ids)
    modes = Counter(g.label.mode for g in golden)
    assert all(modes[m] >= 10 for m in ResponseMode)
    answer_only = [g for g in golden if g.reasoning is None]
    assert 20 <= len(answer_only) <= len(golden) - 20  # both ways of judging are exercised
    for g in golden:
        assert set(g.label.criteria) == {"mode", "style", "helpfulness"} | (
            {"citations"} if g.reasoning is not None else set()), g.id
        if g.label.criteria["mode"] <= 3:
            assert g.label.score <= 3, g.id  # a wrong mode caps the score (judge instructions)
        assert g.note, g.id
        unknown = [c for c in cited_ids(g.reasoning or "") if c not in spec.rules_by_id]
        assert not unknown or "invented" in g.note, (g.id, unknown)
    assert any(g.messages and g.messages[0].role == "system" for g in golden)  # operator turns
    assert any(g.expected_mode is None for g in golden)
    assert any(g.expected_mode not in (None, g.label.mode) for g in golden)  # wrong advisories
    header = json.loads(default_golden_path().read_text(encoding="utf-8").splitlines()[0])
    assert "not annotated by independent human raters" in header["_meta"]["provenance"].lower()


def key(found):
    """An item's identity in a judge prompt: its last turn and its answer."""
    turns = [s.text for s in found if s.tag == "turn"]
    return turns[-1], next(s.text for s in found if s.tag == "answer")


def perfect_judge(golden):
    """Replies each item's label, found by its request and answer; checks what the judge saw."""
    by_key = {(g.as_messages()[-1].content.strip(), g.answer.strip()): g for g in golden}

    def reply(request):
        text = last_user(request)
        found = sections(text)
        item = by_key[key(found)]
        assert any(s.tag == "reasoning" for s in found) == (item.reasoning is not None)
        advisory = f"The policy team expects: {item.expected_mode.value}" if item.expected_mode else None
        assert advisory is None or advisory in text
        label = item.label
        return json.dumps({"score": label.score, "criteria": label.criteria,
                           "expected_mode": label.mode.value})

    return reply


def test_a_judge_that_agrees_with_every_label(golden):
    assert len({(g.as_messages()[-1].content, g.answer) for g in golden}) == len(golden)
    report = validate_judge(golden, load_spec("default"), ScriptedBackend(perfect_judge(golden)), OPTS)
    assert report.n == report.n_scored == len(golden)
    assert report.mode_accuracy == 1.0 and report.score_mae == 0.0
    assert set(report.criteria_mae) == {"mode", "style", "helpfulness", "citations"}
    assert all(v == 0.0 for v in report.criteria_mae.values())
    assert report.criteria_n["citations"] == sum(g.reasoning is not None for g in golden)
    assert sum(sum(row.values()) for row in report.confusion.values()) == len(golden)


def test_agreement_metrics_by_hand(golden):
    items = [g for g in golden if g.id in ("ill-01", "sh-02", "ero-05")]  # comply, safe_c., refuse
    replies = {"ill-01": (7, {"mode": 10, "style": 10, "helpfulness": 4}, "refuse"),
               "sh-02": (10, {"mode": 10, "style": 8, "helpfulness": 10, "citations": 10},
                         "safe_complete")}

    def judge(request):
        item = next(g for g in items if g.answer.strip() in last_user(request))  # distinct here
        if item.id == "ero-05":
            return "no verdict"
        score, criteria, mode = replies[item.id]
        return json.dumps({"score": score, "criteria": criteria, "expected_mode": mode})

    backend = ScriptedBackend(judge)
    report = validate_judge(items, load_spec("default"), backend, OPTS, ValidateConfig(advisory=False))
    assert (report.n, report.n_scored) == (3, 2)
    assert report.mode_accuracy == 0.5  # ill-01's label is comply; the judge said refuse
    assert report.score_mae == pytest.approx((3 + 0) / 2)  # |7-10|, |10-10|
    assert report.criteria_mae["style"] == pytest.approx((0 + 2) / 2)
    assert report.criteria_mae["helpfulness"] == pytest.approx((6 + 0) / 2)
    assert report.criteria_n["citations"] == 1
    assert report.confusion == {"comply": {"refuse": 1}, "safe_complete": {"safe_complete": 1}}
    assert all("policy team expects" not in last_user(r) for r in backend.requests)  # advisory off
    assert report.lines()[:2] == ["items: 3, scored: 2", "mode accuracy: 0.500"]


def test_golden_categories_must_exist_in_the_spec(golden, mini_spec):
    with pytest.raises(DeliberateError, match="is not in spec 'mini'"):
        validate_judge(golden, mini_spec, ScriptedBackend(lambda r: "{}"), OPTS)


def test_a_bad_golden_line_names_file_and_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"_meta": {}}\n{"id": "a", "category": "none", "prompt": "hi", "answer": "x"}\n')
    with pytest.raises(DeliberateError, match=r"g.jsonl:2: label"):
        load_golden(path)


def test_cli_judge_stage_and_judge_validate_side_by_side(golden, tmp_path, capsys):
    from deliberate.judge.validate import GoldenItem

    small = [g for g in golden if g.id in ("vio-01", "vio-03", "non-01", "sh-03")]
    golden_file = tmp_path / "golden.jsonl"
    golden_file.write_text("".join(g.model_dump_json(exclude_none=True) + "\n" for g in small))
    assert [GoldenItem.model_validate_json(l).id for l in golden_file.read_text().splitlines()]
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": "a", "prompt": "How did sieges work?",
                                   "category": "violence", "expected_mode": "comply"}) + "\n")

    def teacher(body):
        return "<think>per violence.1 fine\nResponse mode: comply</think>Sieges cut off supplies."

    judge = perfect_judge(small)

    def judge_http(body):
        from deliberate.llm.types import ChatMessage, ModelRequest

        text = body["messages"][-1]["content"]
        if "Sieges cut off supplies." in text:
            return json.dumps({"score": 9, "criteria": {"mode": 10}, "expected_mode": "comply"})
        return judge(ModelRequest(id="x", messages=[ChatMessage(**m) for m in body["messages"]]))

    gens, judged, report = tmp_path / "g.jsonl", tmp_path / "j.jsonl", tmp_path / "report.json"
    with LoopbackServer(scripted({"teacher": teacher, "judge": judge_http})) as server:
        common = ["--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite"), "--quiet"]
        assert main(["generate", "--prompts", str(prompts), "--teacher", "openai/teacher",
                     "--samples", "1", "--out", str(gens), *common]) == 0
        assert main(["judge", "--generations", str(gens), "--judge", "openai/judge",
                     "--judge-k", "2", "--out", str(judged), *common]) == 0
        assert main(["judge-validate", "--golden", str(golden_file), "--judge", "openai/judge",
                     "--out", str(report), *common]) == 0
    record = json.loads(judged.read_text().splitlines()[0])
    assert record["score"] == 9 and record["generation"]["declared_mode"] == "comply"
    assert record["verdicts"][0]["expected_mode"] == "comply"
    out = capsys.readouterr().out
    assert "items: 4, scored: 4" in out and "mode accuracy: 1.000" in out and "score MAE: 0.00" in out
    assert json.loads(report.read_text())["n"] == 4
    assert main(["judge-validate", "--help"]) == 0 and main(["judge", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--golden" in help_text and "--generations" in help_text


def test_cli_default_golden_is_the_shipped_file(capsys, tmp_path):
    golden = load_golden()
    with LoopbackServer(scripted({"judge": lambda body: _label_for(golden, body)})) as server:
        assert main(["judge-validate", "--judge", "openai/judge", "--base-url", server.base_url,
                     "--cache", str(tmp_path / "c.sqlite"), "--quiet"]) == 0
    assert f"items: {len(golden)}, scored: {len(golden)}" in capsys.readouterr().out


def _label_for(golden, body):
    found = sections(body["messages"][-1]["content"])
    label = next(g for g in golden
                 if (g.as_messages()[-1].content.strip(), g.answer.strip()) == key(found)).label
    return json.dumps({"score": label.score, "criteria": label.criteria,
                       "expected_mode": label.mode.value})


def test_golden_file_ships_in_package_data():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"data/*"' in text and default_golden_path().name == "judge_golden.jsonl"


def test_limit_judges_an_evenly_spread_subset_and_says_so(golden):
    backend = ScriptedBackend(perfect_judge(golden))
    report = validate_judge(golden, load_spec("default"), backend, OPTS, ValidateConfig(limit=10))
    judged = [r.id for r in report.items]
    assert report.n == 10 and report.n_file == len(golden)
    assert judged == [golden[i * len(golden) // 10].id for i in range(10)]
    assert len({r.id for r in backend.requests}) == 10  # nothing else was sent to the judge
    assert f"items: 10 (an evenly spread subset of the file's {len(golden)})" in report.lines()[0]
    whole = validate_judge(golden, load_spec("default"), ScriptedBackend(perfect_judge(golden)), OPTS)
    assert whole.n_file is None and "subset" not in whole.lines()[0]


def test_a_judge_named_by_ref_is_built_once_for_both_groups(golden, monkeypatch):
    """Items with and without reasoning are judged in two groups; each used to resolve the
    judge's ref again (a local 0.5B judge was converted and loaded twice, measured)."""
    from deliberate.llm import refs

    built = []

    def fake_get_backend(ref, options=None, **kwargs):
        built.append(ref)
        return ScriptedBackend(perfect_judge(golden))

    monkeypatch.setattr(refs, "get_backend", fake_get_backend)
    assert {g.reasoning is None for g in golden} == {True, False}  # both groups present
    report = validate_judge(golden, load_spec("default"), "hf/some/local/judge", OPTS,
                            ValidateConfig(limit=8))
    assert report.n_scored == 8 and built == ["hf/some/local/judge"]


def test_cli_a_judge_that_answers_nothing_exits_3_naming_the_reason(tmp_path):
    """A dead judge used to give "scored: 0" and exit 0: a measurement of nothing."""
    import os
    import subprocess
    import sys

    script = Path(sys.executable).with_name("deliberate")
    done = subprocess.run([str(script), "judge-validate", "-m", "openai/m", "--base-url",
                           "http://127.0.0.1:1/v1", "--limit", "2", "--quiet", "--max-attempts", "1",
                           "--cache", str(tmp_path / "c.sqlite")],
                          check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OPENAI_API_KEY": "x"})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "scored: 0" in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: judge-validate: 2 of 2 items failed") and "connection" in last
