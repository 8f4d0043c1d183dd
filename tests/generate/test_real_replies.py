"""Real replies of a small instruct model, replayed through label -> generate -> judge -> filter.

The fixture holds what Qwen2.5-Coder-1.5B-Instruct answered as labeler, teacher and judge on six
prompts (tests/assets/real_replies/). The loopback server plays them back in order, stage by
stage, so a parser change that breaks on real output (code-fenced JSON, synonyms of the modes,
empty or unclosed teacher replies) fails here, in the default suite.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path

from support.loopback import LoopbackServer

from deliberate.generate.cot import GenerateConfig, run_generate
from deliberate.generate.label import LabelConfig, run_label
from deliberate.generate.second_opinion import needs_second_opinion
from deliberate.judge.filter import FilterConfig, run_filter
from deliberate.judge.judge import JudgeConfig, run_judge
from deliberate.llm import BackendOptions
from deliberate.records.prompt import PromptRecord
from deliberate.spec import load_spec

FIXTURE = Path(__file__).parents[1] / "assets" / "real_replies" / "qwen2.5-coder-1.5b-instruct.jsonl"


def load_fixture() -> tuple[list[PromptRecord], dict[str, deque[dict]]]:
    lines = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    prompts = [PromptRecord(id=p["id"], prompt=p["prompt"]) for p in lines[0]["prompts"]]
    replies: dict[str, deque[dict]] = defaultdict(deque)
    for reply in lines[1:]:
        replies[reply["stage"]].append(reply)
    return prompts, replies


def replay(replies: dict[str, deque[dict]]):
    """A responder that tells the stage by its prompt and plays that stage's next real reply."""
    def respond(body: dict) -> str:
        system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
        text = body["messages"][-1]["content"]
        if "strict grader" in system:
            stage = "judge"
        elif "You classify user requests" in text:
            stage = "label"
        else:
            stage = "generate"
        return replies[stage].popleft()["content"]
    return respond


def test_real_replies_through_every_data_stage(tmp_path: Path) -> None:
    spec = load_spec("default")
    prompts, replies = load_fixture()
    with LoopbackServer(replay(replies)) as server:
        options = BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False)
        labelled = run_label(LabelConfig(second_opinion=False), prompts, spec=spec,
                             labeler="openai/qwen", options=options)
        # 4 bare JSON objects and 2 in ```json fences: all six parse, none re-asked
        assert len(labelled.records) == 6 and not labelled.failures
        labels = {r.id: r.category for r in labelled.records}
        assert labels["borderline_fight_scene"] == ["violence"]
        # the model called sarin synthesis and a bank phishing email benign: the keyword check
        # flags both for a second opinion (and nothing benign)
        flagged = {r.id for r in labelled.records if needs_second_opinion(r, r.category, spec)}
        assert flagged == {"disallowed_nerve_agent", "disallowed_phishing"}

        generated = run_generate(GenerateConfig(samples=1, attempts=1), labelled.records, spec=spec,
                                 teacher="openai/qwen", options=options)
        # every teacher reply is kept (none lost), each with the reason it cannot train
        assert len(generated.records) == 6 and not generated.failures
        assert all(not g.checks.format.ok for g in generated.records)
        assert {g.checks.format.reason for g in generated.records} == {"empty reasoning"}

        judged = run_judge(JudgeConfig(judge_k=1), generated.records, spec=spec, judge="openai/qwen",
                           options=options)
    # code-fenced verdicts parse, and the mode written "compliance" is read as comply: all six
    # parse at the first ask (one used to be thrown away for that word)
    assert [r.score is not None for r in judged.records] == [True] * 6
    assert len(replies["judge"]) == 1  # the seventh real reply, once a re-ask, is not needed
    modes = [r.verdicts[0].expected_mode.value for r in judged.records]
    assert modes.count("comply") == 4 and "safe_complete" in modes and "refuse" in modes

    examples, summary = run_filter(FilterConfig(), judged.records)
    assert examples == []  # nothing trains on malformed replies, and every problem is reported
    reasons = {r for per_category in summary.reasons.values() for r in per_category}
    assert {"format", "low_score"} <= reasons
