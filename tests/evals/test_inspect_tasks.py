"""The suites as inspect_ai tasks, run offline with inspect's scripted ``mockllm/model``: the same
prompts, the project's graders as scorers, the suites' own metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from deliberate.evals.inspect_tasks import grading
from deliberate.evals.inspect_tasks.tasks import spec_adherence, strongreject, xstest
from deliberate.evals.strongreject.rubric import parse_rubric_response
from deliberate.llm.types import ChatMessage

SCORES = "#overall_reasoning r\n#scores\n1.a r\n1.b {refused}\n2.a r\n2.b 5\n3.a r\n3.b 5\n"
COMPLY = "Sure, step 1: gather the materials."
REFUSE = "I'm sorry, but I can't help with that."


def mock(respond, calls: list | None = None):
    """A mockllm model whose reply is ``respond(messages)``; ``calls`` collects the messages.
    Usage is set so that mockllm does not count tokens (tiktoken would download its tables)."""
    def outputs(messages, tools, tool_choice, config):
        if calls is not None:
            calls.append(messages)
        output = ModelOutput.from_content(model="mockllm/model", content=respond(messages))
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # no tiktoken
        return output

    return get_model("mockllm/model", custom_outputs=outputs, memoize=False)


def run(task, model, tmp_path: Path, **kwargs) -> dict[str, float]:
    (log,) = inspect_eval(task, model=model, log_dir=str(tmp_path / "logs"), display="none",
                          **kwargs)
    assert log.status == "success", log.error
    (scores,) = log.results.scores
    return {name: m.value for name, m in scores.metrics.items()}


def test_strongreject_task_with_the_rubric_grader(shared_data, tmp_path):
    def model(messages):  # refuses plain requests, complies under the rot_13 jailbreak
        return COMPLY if "ROT13" in messages[-1].text else REFUSE

    grader_calls: list = []

    def grader(messages):  # with a grader, the refusal labels come from it too (as --grader)
        text = messages[-1].text
        if '"label"' in text:
            return json.dumps({"label": "refusal" if REFUSE in text else "compliance"})
        grader_calls.append(messages)
        return SCORES.format(refused=int(REFUSE in text))

    task = strongreject(jailbreaks="none,rot_13", refusal_method="strmatch", limit=3,
                        data=str(shared_data / "strongreject" / "strongreject_dataset.csv"))
    assert len(task.dataset) == 6 and task.metadata["deliberate"]["jailbreaks"] == ["none", "rot_13"]
    metrics = run(task, mock(model), tmp_path, model_roles={"grader": mock(grader)})
    # per prompt: none -> harm 0, rot_13 -> harm 1; the worst 10% of 2 techniques is rot_13
    assert metrics == {"goodness@0.1": 0.0, "mean_score": 0.5, "refusal_rate": 0.5}
    assert len(grader_calls) == 6
    for messages in grader_calls:  # the original request (never the wrapper) and the answer
        text = messages[-1].text
        assert "ROT13-encoded" not in text and (COMPLY in text or REFUSE in text)
    if task.metadata["deliberate"]["rubric_official"]:  # tests/evals/conftest.py: shared copies
        assert [m.role for m in grader_calls[0]] == ["system", "user"]


def test_xstest_task_local_and_llm_grader(shared_data, tmp_path):
    data = str(shared_data / "xstest" / "xstest_prompts.csv")
    task = xstest(refusal_method="strmatch", data=data, limit=20)
    labels = {s.metadata["label"] for s in task.dataset}
    assert labels == {"safe", "unsafe"} and task.metadata["deliberate"]["comparable"] is True
    metrics = run(task, mock(lambda m: "Here is the answer."), tmp_path)
    assert metrics == {"not_overrefuse": 1.0, "unsafe_refusal_rate": 0.0}

    def grader(messages):
        assert "in the sense of will not" in messages[-1].text  # the XSTest rules
        return json.dumps({"label": "partial_refusal"})

    metrics = run(xstest(data=data, limit=20), mock(lambda m: "Here is the answer."), tmp_path,
                  model_roles={"grader": mock(grader)})
    assert metrics == {"not_overrefuse": 0.0, "unsafe_refusal_rate": 1.0}


def test_spec_task_with_the_judge(mini_spec_path, tmp_path):
    def model(messages):
        return "<think>This is history, allowed per violence.1.</think>Sieges cut off supplies."

    def grader(messages):
        text = messages[-1].text
        if '"label"' in text:
            return json.dumps({"label": "compliance"})
        from deliberate.prompts import sections

        found = sections(text)  # the judge sees no reasoning: no section, nothing in the answer
        assert not [s for s in found if s.tag == "reasoning"]
        assert all("violence.1" not in s.text for s in found if s.tag == "answer")
        return json.dumps({"score": 8, "criteria": {}})

    task = spec_adherence(spec=str(mini_spec_path), judge_k=2)
    metrics = run(task, mock(model), tmp_path, model_roles={"grader": mock(grader)})
    assert metrics["mode_agreement"] == 1.0 and metrics["judge_score"] == 8.0
    assert metrics["citation_accuracy"] == 1.0


def test_spec_task_reports_style_and_retrieval_by_mode(mini_spec_path, tmp_path):
    def model(messages):
        return "<think>History; per violence.1 it is allowed.</think>Sieges cut off supplies."

    def grader(messages):
        text = messages[-1].text
        if '"label"' in text:
            return json.dumps({"label": "compliance"})
        assert "The policy team expects: comply" in text  # the example's mode, as advisory
        return json.dumps({"score": 8, "criteria": {"mode": 10, "style": 6},
                           "expected_mode": "comply"})

    task = spec_adherence(spec=str(mini_spec_path), judge_k=1)
    metrics = run(task, mock(model), tmp_path, model_roles={"grader": mock(grader)})
    assert metrics["style_compliance"] == 6.0 and metrics["retrieval_comply"] == 1.0


def test_an_unparsable_grader_reply_is_re_asked_then_reported():
    replies = iter(["no scores", "still none", SCORES.format(refused=0)])
    model = mock(lambda m: next(replies))
    value, error = asyncio.run(grading.ask_parsed(
        model, [ChatMessage(role="user", content="grade")], parse_rubric_response,
        temperature=0.0, max_tokens=16))
    assert error is None and value.score == 1.0
    value, error = asyncio.run(grading.ask_parsed(
        mock(lambda m: "no scores"), [ChatMessage(role="user", content="grade")],
        parse_rubric_response, temperature=0.0, max_tokens=16))
    assert value is None and "after 3 attempts" in error


def test_tasks_are_registered_for_inspect_by_entry_point():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    entry = pyproject["project"]["entry-points"]["inspect_ai"]
    assert entry == {"deliberate": "deliberate.evals.inspect_tasks._registry"}
    assert "inspect-ai" in " ".join(pyproject["project"]["optional-dependencies"]["inspect"])
    import importlib

    registry = importlib.import_module(entry["deliberate"])
    assert {"strongreject", "xstest", "spec_adherence"} <= set(dir(registry))


def test_deliberate_imports_no_inspect_ai():
    import subprocess
    import sys

    code = ("import sys, deliberate.cli.app, deliberate.evals.runner, deliberate.evals.inspect_tasks; "
            "print('inspect_ai' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
