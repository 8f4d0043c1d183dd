"""Adding a suite is one object appended to SUITES: eval and report pick it up, nothing else changes."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from support.loopback import LoopbackServer

from deliberate.cli.app import main
from deliberate.evals.metrics import by_group, mean
from deliberate.evals.suites import SUITES, Bars, EvalItem, Metric, Tier
from deliberate.records.evaluation import EvalResult
from deliberate.records.prompt import PromptRecord


def echo_rate(results: Sequence[EvalResult]) -> float | None:
    return mean([float(r.answer.startswith("echo:")) for r in results if r.error is None])


class ToySuite:
    """Three fixed prompts; a reply counts when the model echoes the prompt back."""

    name = "toy"
    title = "Toy echo"
    metrics = (Metric("echo_rate", echo_rate, "higher", "share of replies that echo the prompt",
                      counts=lambda r: r.error is None),)
    bars = (Bars("per_colour", "Toy: echo rate per colour", "echo rate", "Echo rate per colour.",
                 lambda rs: by_group(rs, echo_rate)),)
    tiers = (Tier("an echo", "good", lambda r: r.answer.startswith("echo:"), lambda r: 0),)

    def describe(self, config):
        return {"prompts": 3}

    def items(self, config, spec, target=None):
        prompts = [PromptRecord(id=f"t{i}", prompt=f"say {colour}")
                   for i, colour in enumerate(("red", "green", "blue"))]
        return [EvalItem(p, p, p.prompt.split()[-1], None, None) for p in prompts]

    def grade(self, graded, ctx):
        for result, _ in graded:
            result.details["length"] = len(result.answer)

    def example_facts(self, result):
        return [("length", str(result.details.get("length")))]


@pytest.fixture
def toy_suite():
    suite = ToySuite()
    SUITES.append(suite)
    yield suite
    SUITES.remove(suite)


def test_a_suite_defined_here_runs_through_eval_and_report(toy_suite, tmp_path, capsys):
    run = tmp_path / "run"
    with LoopbackServer() as server:
        assert main(["eval", "--model", "openai/m", "--suites", "toy", "--out", str(run),
                     "--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite"),
                     "--quiet", "--refusal-method", "rules"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["toy"]["echo_rate"] == 1.0 and set(metrics["toy"]["per_colour"]) == {"red", "green", "blue"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["details"]["suites"] == {"toy": {"prompts": 3}}
    rows = [json.loads(line) for line in (run / "toy" / "results.jsonl").read_text().splitlines()]
    assert {r["details"]["length"] for r in rows} == {len("echo: say red"), len("echo: say blue"),
                                                      len("echo: say green")}

    assert main(["report", str(run), "--out", str(tmp_path / "report.html"), "--n-boot", "20"]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "Toy echo" in html and "echo_rate" in html and 'id="plot-toy_per_colour"' in html
    assert "an echo" in html and "length: <strong>" in html


def test_an_unknown_suite_is_a_usage_error(tmp_path, capsys):
    assert main(["eval", "--model", "openai/m", "--suites", "toy", "--out", str(tmp_path / "r"),
                 "--base-url", "http://127.0.0.1:9/v1"]) == 2
    err = capsys.readouterr().err
    assert "unknown suite 'toy'" in err and err.count("\n") == 1
