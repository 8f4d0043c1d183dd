"""`deliberate eval --reasoning-budget N`: recorded in the manifest, enforced per backend, and
plotted against the metrics when several runs differ only in it."""

from __future__ import annotations

import json

import pytest
from support.loopback import LoopbackServer, Reply

from deliberate.cli.app import main
from deliberate.evals.gsm8k import load_gsm8k


@pytest.fixture
def gsm8k_test(shared_data):
    return shared_data / "capability" / "gsm8k" / "test.jsonl"


def eval_args(run, gsm8k_test, *more):
    return ["eval", "--suites", "capability", "--limit", "4", "--capability-data", str(gsm8k_test),
            "--out", str(run), "--quiet", *more]


def test_local_model_budget_is_enforced_here_and_recorded(gsm8k_test, tiny_model_path, tmp_path):
    run = tmp_path / "run"
    assert main(eval_args(run, gsm8k_test, "--model", f"hf/{tiny_model_path}", "--max-tokens", "8",
                          "--reasoning-budget", "3", "--cache", str(tmp_path / "c.sqlite"))) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["config"]["reasoning_budget"] == 3
    assert manifest["details"]["reasoning_budget"]["tokens"] == 3
    assert manifest["details"]["reasoning_budget"]["enforced"].startswith("client-side")


def test_a_server_without_its_budget_field_is_refused_before_any_call(gsm8k_test, tmp_path, capsys):
    with LoopbackServer() as server:
        code = main(eval_args(tmp_path / "run", gsm8k_test, "--model", "openai/m", "--base-url",
                              server.base_url, "--reasoning-budget", "16"))
    assert code != 0 and server.received == 0
    assert "--reasoning-budget-field" in capsys.readouterr().err


def budget_dependent(gold):
    """Right answers only with room to think: the budget the server was sent decides."""
    def reply(body):
        question = body["messages"][-1]["content"].split("\n\nReason step by step")[0]
        budget = body.get("thinking_token_budget")
        right = budget is None or budget >= 64
        return Reply(content=f"#### {gold[question] if right else -1}", reasoning="x" * (budget or 100))
    return reply


def test_runs_differing_only_in_budget_get_a_budget_plot(gsm8k_test, tmp_path):
    from deliberate.report.budget import budget_series
    from deliberate.report.load import load_runs

    gold = {p.question: p.final for p in load_gsm8k("test", gsm8k_test)}
    runs = []
    with LoopbackServer(budget_dependent(gold)) as server:
        common = ["--base-url", server.base_url, "--reasoning-budget-field", "thinking_token_budget",
                  "--cache", str(tmp_path / "c.sqlite")]
        for budget in ("16", "256", "none", "64"):
            runs.append(tmp_path / f"b{budget}")
            assert main(eval_args(runs[-1], gsm8k_test, "--model", "openai/m", "--reasoning-budget", budget,
                                  "--label", f"budget {budget}", *common)) == 0
        runs.append(tmp_path / "other")  # another model: not part of the series
        assert main(eval_args(runs[-1], gsm8k_test, "--model", "openai/other", "--reasoning-budget", "16",
                              *common)) == 0
    sent = sorted({b.get("thinking_token_budget", -1) for b in server.requests})
    assert sent == [-1, 16, 64, 256]
    accuracy = {r.name: json.loads((r / "metrics.json").read_text())["capability"]["gsm8k_accuracy"] for r in runs}
    assert accuracy == {"b16": 0.0, "b256": 1.0, "bnone": 1.0, "b64": 1.0, "other": 0.0}
    notes: list[str] = []
    [series] = budget_series(load_runs(runs), notes)
    assert [r.name for r in series] == ["budget 16", "budget 64", "budget 256", "budget none"] and not notes

    assert main(["report", *map(str, runs), "--out", str(tmp_path / "report.html"), "--n-boot", "20"]) == 0
    html = (tmp_path / "report.html").read_text()
    assert 'id="plot-budget"' in html and "Metrics vs. reasoning budget: openai/m" in html
