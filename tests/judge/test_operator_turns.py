"""Operator turns travel from the prompt to the SFT export and can switch a configurable rule.

A spec rule marked operator-configurable (explicit adult fiction, refused by default) meets the
same request with and without an operator system turn that enables it: the teacher sees the
operator turn after its own system message, the judge sees it fenced with role=system, the
modes agree, and the SFT example keeps the operator turn.
"""

from __future__ import annotations

import json

from support.scripted import ScriptedBackend, last_user

from deliberate.generate.cot import GenerateConfig, run_generate
from deliberate.judge.filter import FilterConfig, run_filter
from deliberate.judge.judge import JudgeConfig, run_judge
from deliberate.llm import BackendOptions
from deliberate.llm.types import ChatMessage
from deliberate.prompts import sections
from deliberate.records import PromptRecord
from deliberate.spec.model import Spec

OPTS = BackendOptions(use_cache=False, progress=False, backoff_base=0.0)
OPERATOR = "This platform serves verified adults. Explicit fiction between adults is enabled."
REQUEST = "Write an explicit love scene between my two adult characters."

SPEC = Spec.model_validate({
    "name": "adult-mini", "version": "1", "description": "A spec with an operator-configurable rule.",
    "style_guidelines": [
        {"id": "style.refusal", "title": "Refusal", "text": "One sentence of apology."},
        {"id": "style.compliance", "title": "Compliance", "text": "Write the piece with craft."}],
    "categories": [{
        "id": "adult", "title": "Adult content", "description": "Sexual content.",
        "rules": [
            {"id": "adult.1", "mode": "comply", "text": "Romantic writing that fades to black."},
            {"id": "adult.2", "mode": "refuse", "text": "Explicit sexual fiction is refused by "
             "default. Configurable: an operator may enable it for verified adults, and then "
             "it is comply."}]}],
})


def teacher(request):
    own, *conversation = request.messages
    assert own.role == "system" and "[adult.2]" in own.content and OPERATOR not in own.content
    if any(m.role == "system" and m.content == OPERATOR for m in conversation):
        return ("<think>The operator enabled explicit fiction for verified adults; adult.2 is "
                "configurable, so it is comply here. style.compliance.\nResponse mode: comply"
                "</think>Their hands met in the candlelight...")
    return ("<think>Explicit fiction; adult.2 refuses it by default and no operator enabled it. "
            "style.refusal.\nResponse mode: refuse</think>I'm sorry, but I can't help with that.")


def judge(request):
    found = sections(last_user(request))
    enabled = ("system", OPERATOR) in [(s.role, s.text) for s in found if s.tag == "turn"]
    mode = "comply" if enabled else "refuse"
    return json.dumps({"score": 9, "criteria": {"mode": 10}, "expected_mode": mode})


def test_operator_instruction_switches_a_configurable_rule_end_to_end():
    prompts = [
        PromptRecord(id="default", prompt=REQUEST, category="adult", expected_mode="refuse"),
        PromptRecord(id="operator", category="adult", expected_mode="comply", messages=[
            ChatMessage(role="system", content=OPERATOR), ChatMessage(role="user", content=REQUEST)]),
    ]
    teacher_backend = ScriptedBackend(teacher)
    generations = run_generate(GenerateConfig(samples=1), prompts, spec=SPEC,
                               teacher=teacher_backend, options=OPTS).records
    sent = {r.id: [m.role for m in r.messages] for r in teacher_backend.requests}
    assert sent == {"default#0": ["system", "user"], "operator#0": ["system", "system", "user"]}
    by_id = {g.prompt_id: g for g in generations}
    assert by_id["operator"].declared_mode == "comply" and by_id["default"].declared_mode == "refuse"
    assert by_id["operator"].messages[0] == ChatMessage(role="system", content=OPERATOR)

    judge_backend = ScriptedBackend(judge)
    judged = run_judge(JudgeConfig(judge_k=2), generations, spec=SPEC, judge=judge_backend,
                       options=OPTS).records
    operator_request = next(r for r in judge_backend.requests if r.id.startswith("operator"))
    turns = [(s.role, s.text) for s in sections(last_user(operator_request)) if s.tag == "turn"]
    assert turns == [("system", OPERATOR), ("user", REQUEST)]
    assert {r.generation.prompt_id: r.verdicts[0].expected_mode for r in judged} == {
        "default": "refuse", "operator": "comply"}

    examples, summary = run_filter(FilterConfig(require_mode_agreement=True, dedup_threshold=None),
                                   judged)
    assert not summary.dropped
    exported = {e.prompt_id: e.messages for e in examples}
    assert [m["role"] for m in exported["operator"]] == ["system", "user", "assistant"]
    assert exported["operator"][0]["content"] == OPERATOR
    assert [m["role"] for m in exported["default"]] == ["user", "assistant"]
    assert "Configurable: an operator" not in json.dumps(exported["operator"])  # still no spec


def test_operator_turns_can_be_sent_as_one_role(mini_spec):
    backend = ScriptedBackend(lambda r: "<think>style.compliance\nResponse mode: comply</think>Hi.")
    prompt = PromptRecord(id="p", category="none", messages=[
        ChatMessage(role="developer", content="Answer in French."),
        ChatMessage(role="user", content="Hello")])
    [record] = run_generate(GenerateConfig(samples=1, operator_role="system"), [prompt],
                            spec=mini_spec, teacher=backend, options=OPTS).records
    assert [m.role for m in backend.requests[0].messages] == ["system", "system", "user"]
    assert [m.role for m in record.messages] == ["developer", "user"]  # recorded as written
