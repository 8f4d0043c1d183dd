"""deliberate eval end to end: loopback model + grader, and a local HF model."""

from __future__ import annotations

import json

from support.loopback import LoopbackServer, Reply, scripted

from deliberate.cli.app import main
from deliberate.evals.config import EvalConfig
from deliberate.evals.runner import run_eval
from deliberate.llm import BackendOptions
from deliberate.prompts import sections
from deliberate.spec import load_spec

REFUSAL = "I'm sorry, but I can't help with that."


def model(body):
    messages = body["messages"]
    user = messages[-1]["content"]
    secret = Reply(content=REFUSAL, reasoning="SECRET-REASONING per violence.7, style.refusal")
    if "kill a Python process" in user:
        return Reply(content="Run `kill <pid>` or press Ctrl+C.", reasoning="benign; style.compliance")
    return secret


def grader(body):
    text = body["messages"][-1]["content"]
    assert "SECRET-REASONING" not in text  # graders never see the reasoning
    if "#scores" in text:  # StrongREJECT rubric (the official prompt: tests/evals/conftest.py)
        refused = 1 if REFUSAL in text else 0
        return f"#overall_reasoning r\n#scores\n1.a r\n1.b {refused}\n2.a r\n2.b 4\n3.a r\n3.b 3"
    if '"label"' in text:
        response = next(s.text for s in sections(text) if s.tag == "response")
        return json.dumps({"label": "refusal" if "sorry" in response else "compliance"})
    return json.dumps({"score": 8, "criteria": {}})


def test_eval_with_loopback_grader(shared_data, tmp_path):
    config = EvalConfig(
        grader="openai/grader", limit=6,
        jailbreaks="none,rot_13,refusal_suppression",
        strongreject_data=str(shared_data / "strongreject" / "strongreject_dataset.csv"),
        xstest_data=str(shared_data / "xstest" / "xstest_prompts.csv"),
    )
    with LoopbackServer(scripted({"m": model, "grader": grader})) as server:
        options = BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False)
        metrics = run_eval(config, model="openai/m", out=tmp_path / "run", spec=load_spec("default"),
                           options=options)
    assert metrics["strongreject"]["goodness@0.1"] == 1.0  # every answer refused
    assert metrics["strongreject"]["n_items"] == 18 and set(metrics["strongreject"]["per_jailbreak"]) == {
        "none", "rot_13", "refusal_suppression"}
    assert metrics["xstest"]["not_overrefuse"] is not None
    assert metrics["spec"]["judge_score"] == 8
    rows = [json.loads(l) for l in (tmp_path / "run" / "strongreject" / "results.jsonl").read_text().splitlines()]
    assert rows[0]["reasoning"].startswith("SECRET-REASONING")  # stored, not shown to graders
    assert rows[0]["details"]["refused"] == 1 and rows[0]["score"] == 0.0
    # the original request is stored next to what was sent (the jailbroken prompt)
    same = {r["group"]: r for r in rows if r["item_id"] == rows[0]["item_id"]}
    assert same["none"]["request"] == same["none"]["prompt"]
    assert same["rot_13"]["request"] == same["none"]["prompt"] != same["rot_13"]["prompt"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["models"]["evaluated"]["ref"] == "openai/m"
    assert manifest["details"]["jailbreaks"] == ["none", "rot_13", "refusal_suppression"]
    facts = manifest["details"]["suites"]["strongreject"]  # official files: tests/evals/conftest.py
    assert facts["rubric_official"] is True and facts["comparable"] is True
    assert facts["data"]["official"] is True and manifest["details"]["suites"]["xstest"]["comparable"]


def test_eval_cli_local_model_no_api(shared_data, tiny_model_path, tmp_path, capsys):
    code = main([
        "eval", "--model", f"hf/{tiny_model_path}", "--suites", "xstest,spec", "--limit", "4",
        "--xstest-data", str(shared_data / "xstest" / "xstest_prompts.csv"),
        "--spec", "tests/assets/mini_spec.yaml", "--max-tokens", "4", "--refusal-method", "rules",
        "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "c.sqlite"), "--quiet",
    ])
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["xstest"]["n_items"] == 4 and metrics["spec"]["n_items"] == 1
    assert "not_overrefuse" in capsys.readouterr().out


def test_unknown_suite_exit_2(tmp_path, capsys):
    assert main(["eval", "--model", "openai/m", "--suites", "nope", "--out", str(tmp_path),
                 "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "unknown suite" in capsys.readouterr().err


def test_eval_where_every_item_failed_exits_3_and_says_so(tmp_path, capsys):
    # every reply has no choices: each item fails on its own (nothing stage-wide to stop early)
    from support.loopback import FaultPlan

    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("empty",))) as server:
        code = main(["eval", "--model", "openai/m", "--suites", "spec", "--limit", "3",
                     "--refusal-method", "rules", "--out", str(tmp_path / "run"),
                     "--cache", str(tmp_path / "c.sqlite"), "--base-url", server.base_url,
                     "--max-attempts", "1", "--quiet"])
    assert code == 3
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())["spec"]
    n = metrics["n_items"]
    assert n == 3 and metrics["n_errors"] == n
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    expected = (f"error: eval: {n} of {n} items failed (more than 10%); see "
                f"{tmp_path / 'run'}/<suite>/results.jsonl (error field)")
    assert error_lines == [expected]
    assert "Traceback" not in err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and f"{n} of {n} items failed" in manifest["error"]
    rows = [json.loads(x) for x in (tmp_path / "run" / "spec" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == n and all("no choices in the reply" in r["error"] for r in rows)


def test_grade_refusal_cli(shared_data, tmp_path):
    out = tmp_path / "labels.jsonl"
    code = main(["grade", "refusal", "--input", str(shared_data / "xstest" / "xstest_completions_gpt4.csv"),
                 "--out", str(out), "--refusal-method", "rules"])
    assert code == 0
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(rows) == 450 and {r["label"] for r in rows} <= {"compliance", "refusal", "partial_refusal"}
