"""The capability suite: GSM8K exact match on the final number, through eval and the report."""

from __future__ import annotations

import json
import re

import pytest
from support.loopback import LoopbackServer, Reply

from deliberate.cli.app import main
from deliberate.evals.gsm8k import extract_answer, load_gsm8k, normalize_number, same_number
from deliberate.evals.public_data import GSM8K_TEST, GSM8K_TRAIN, sha256_file

INSTRUCTION = 'give the final answer on the last line in the form "#### <number>"'


@pytest.fixture
def gsm8k_test(shared_data):
    return shared_data / "capability" / "gsm8k" / "test.jsonl"


def test_the_pinned_hashes_are_those_of_the_published_files(shared_data):
    folder = shared_data / "capability" / "gsm8k"
    assert sha256_file(folder / "test.jsonl") == GSM8K_TEST.sha256
    assert sha256_file(folder / "train.jsonl") == GSM8K_TRAIN.sha256
    assert "3101c7d" in GSM8K_TEST.url and GSM8K_TEST.filename != GSM8K_TRAIN.filename


@pytest.mark.parametrize("answer, value, how", [
    ("So she makes $18 a day.\n#### 18", "18", "####"),
    ("#### $1,080.00", "1080", "####"),
    ("Total: 16 - 3 - 4 = 9 eggs, and 9 * 2 = 18.", "18", "last_number"),
    ("The answer is 18.0.", "18", "last_number"),
    ("It drops to -3.50 degrees", "-3.5", "last_number"),
    ("#### forty\nso 40", "40", "last_number"),  # no number after ####: the fallback
    ("#### 7 apples, not 12", "7", "####"),
    ("I cannot tell.", None, "none"),
])
def test_extraction(answer, value, how):
    assert tuple(extract_answer(answer)) == (value, how)


def test_numbers_compare_as_numbers():
    assert same_number(normalize_number("$18.00"), "18") and same_number("0.5", normalize_number(".50"))
    assert not same_number("18", "180") and not same_number(None, "18")


def test_every_published_answer_parses(gsm8k_test):
    problems = load_gsm8k("test", gsm8k_test)
    assert len(problems) == 1319 and len({p.id for p in problems}) == 1319
    assert problems[0].final == "18" and "<<" not in problems[0].solution
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", p.final) for p in problems)  # commas normalised


def answers(sample: list[str], gold: dict[str, str]):
    """A scripted model: right with ####, right by the last number, wrong, no number, in turn."""
    def reply(body):
        question = body["messages"][-1]["content"].split("\n\nReason step by step")[0]
        assert INSTRUCTION in body["messages"][-1]["content"]
        index = sorted(sample).index(question)
        right = gold[question]
        content = [f"Adding up.\n#### {right}", f"So the total is {right}.", f"#### {int(float(right)) + 1}",
                   "I am not sure."][index % 4]
        return Reply(content=content, reasoning=f"SECRET reasoning ends in #### {right}")
    return reply


def run_cli(run, *args):
    return main(["eval", "--suites", "capability", "--out", str(run), "--quiet", *args])


def test_capability_eval_on_the_loopback_server_and_report(gsm8k_test, tmp_path):
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites import get_suite

    problems = {p.question: p.final for p in load_gsm8k("test", gsm8k_test)}
    config = EvalConfig(suites=["capability"], limit=8, capability_data=str(gsm8k_test))
    sample = [item.base.text for item in get_suite("capability").items(config, spec=None)]
    run = tmp_path / "run"
    with LoopbackServer(answers(sample, problems)) as server:
        assert run_cli(run, "--model", "openai/m", "--base-url", server.base_url, "--limit", "8",
                       "--capability-data", str(gsm8k_test), "--cache", str(tmp_path / "c.sqlite")) == 0
    metrics = json.loads((run / "metrics.json").read_text())["capability"]
    assert metrics["gsm8k_accuracy"] == 0.5 and metrics["n_items"] == 8 and metrics["n_errors"] == 0
    assert metrics["per_answer_format"] == {"after ####": 0.5, "last number (fallback)": 1.0, "no number": 0.0}
    rows = [json.loads(line) for line in (run / "capability" / "results.jsonl").read_text().splitlines()]
    assert all(r["refusal"] is None for r in rows)  # no refusal grader on maths
    wrong = [r for r in rows if r["answer"].startswith("####")]
    assert wrong and not any(r["details"]["correct"] for r in wrong)  # the reasoning is not graded
    assert all(r["request"] in problems and INSTRUCTION in r["prompt"] for r in rows)
    details = json.loads((run / "manifest.json").read_text())["details"]["suites"]["capability"]
    assert details["official"] and details["data"]["sha256"] == GSM8K_TEST.sha256  # the published file
    assert details["comparable"] and "zero-shot, not the usual 8-shot" in details["comparability"]
    assert details["shots"] == 0

    assert main(["report", str(run), "--out", str(tmp_path / "report.html"), "--n-boot", "50"]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "Capability (GSM8K)" in html and "gsm8k_accuracy" in html and "wrong answer" in html
    assert 'id="plot-capability_per_answer_format"' in html


def test_capability_eval_on_a_local_model(gsm8k_test, tiny_model_path, tmp_path):
    run = tmp_path / "run"
    assert run_cli(run, "--model", f"hf/{tiny_model_path}", "--limit", "3", "--max-tokens", "6",
                   "--capability-data", str(gsm8k_test), "--cache", str(tmp_path / "c.sqlite")) == 0
    metrics = json.loads((run / "metrics.json").read_text())["capability"]
    assert metrics["n_items"] == 3 and metrics["gsm8k_accuracy"] is not None  # a random model: graded
    rows = [json.loads(line) for line in (run / "capability" / "results.jsonl").read_text().splitlines()]
    assert all({"gold", "extracted", "answer_format", "correct"} <= set(r["details"]) for r in rows)


def test_another_file_is_recorded_as_not_comparable(gsm8k_test, tmp_path):
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites import get_suite

    mine = tmp_path / "mine.jsonl"
    mine.write_text(gsm8k_test.read_text().splitlines()[0] + "\n")
    suite = get_suite("capability")
    details = suite.describe(EvalConfig(suites=["capability"], capability_data=str(mine)))
    assert not details["comparable"] and "not the published test.jsonl" in details["comparability"]
    assert suite.comparability("gsm8k_accuracy", details, {}) == (False, "not the published GSM8K test set")
    sampled = suite.describe(EvalConfig(suites=["capability"], capability_data=str(gsm8k_test),
                                        temperature=0.7))
    assert not sampled["comparable"] and "not greedy" in sampled["comparability"]


def test_without_a_local_copy_the_published_file_is_downloaded_and_checked(gsm8k_test, tmp_path, monkeypatch):
    from deliberate.evals import public_data
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites import get_suite

    fetched = []
    monkeypatch.setattr(public_data, "_fetch", lambda url, dest: (fetched.append(url),
                                                                 dest.write_bytes(gsm8k_test.read_bytes())))
    items = get_suite("capability").items(EvalConfig(suites=["capability"], limit=5), spec=None)
    assert fetched == [GSM8K_TEST.url] and len(items) == 5
    again = get_suite("capability").items(EvalConfig(suites=["capability"], limit=5), spec=None)
    assert fetched == [GSM8K_TEST.url] and [i.record.id for i in again] == [i.record.id for i in items]
