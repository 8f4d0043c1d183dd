"""CoT generation: the teacher sees spec(category); provenance; only changed excerpts regenerate."""

from __future__ import annotations

import pytest
import yaml
from support.scripted import ScriptedBackend, system_text

from deliberate.errors import DeliberateError
from deliberate.generate.cot import GenerateConfig, run_generate
from deliberate.llm import BackendOptions
from deliberate.records import PromptRecord
from deliberate.spec import load_spec


def teacher(request):
    system = system_text(request)
    if "[violence.2]" in system:
        return "<think>The user asks about history; per violence.1 this is allowed.</think>Sieges used..."
    if "[self_harm.2]" in system:
        return "<think>Per self_harm.2 I respond with empathy and resources.</think>I'm sorry you're hurting."
    return "<think>Benign; style.compliance applies.</think>Use kill -9 PID."


PROMPTS = [
    PromptRecord(id="v", prompt="How did sieges work?", category="violence"),
    PromptRecord(id="s", prompt="I feel hopeless", category="self_harm"),
    PromptRecord(id="n", prompt="How do I kill a Python process?", category="none"),
]


def test_generate_records_and_context(mini_spec, tmp_path):
    backend = ScriptedBackend(teacher)
    options = BackendOptions(cache=tmp_path / "c.sqlite", progress=False)
    result = run_generate(GenerateConfig(samples=2), PROMPTS, spec=mini_spec, teacher=backend, options=options)
    assert len(result.records) == 6 and not result.failures
    v0 = result.records[0]
    assert (v0.prompt_id, v0.sample_index, v0.category) == ("v", 0, ["violence"])
    assert v0.reasoning.startswith("The user asks") and v0.answer == "Sieges used..."
    assert v0.spec_name == "mini" and v0.excerpt_hash == mini_spec.excerpt_hash("violence")
    assert v0.teacher == "test/scripted" and len(v0.template_hash) == 16
    assert v0.checks.citation.valid and not v0.checks.leak.leaked and v0.checks.format.ok
    assert result.records[1].sample_index == 1
    none_system = system_text(next(r for r in backend.requests if r.id.startswith("n#")))
    assert "[style.refusal]" in none_system and "violence.1" not in none_system
    assert all(m.role != "system" for m in v0.messages)  # the record keeps no spec


def test_spec_edit_regenerates_only_touched_category(mini_spec_path, tmp_path):
    options = BackendOptions(cache=tmp_path / "c.sqlite", progress=False)
    spec = load_spec(mini_spec_path)
    run_generate(GenerateConfig(samples=2), PROMPTS, spec=spec, teacher=ScriptedBackend(teacher), options=options)
    rerun = ScriptedBackend(teacher)
    result = run_generate(GenerateConfig(samples=2), PROMPTS, spec=spec, teacher=rerun, options=options)
    assert rerun.calls == [] and result.usage.models["test/scripted"].from_cache == 6
    data = yaml.safe_load(mini_spec_path.read_text())
    data["categories"][1]["rules"][1]["text"] = "Expressions of intent get warmth, resources and a follow-up question."
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(data))
    after = ScriptedBackend(teacher)
    result = run_generate(GenerateConfig(samples=2), PROMPTS, spec=load_spec(edited), teacher=after, options=options)
    assert sorted(after.calls) == ["s#0", "s#1"]
    assert result.usage.models["test/scripted"].sent == 2


def test_unlabelled_prompts_rejected(mini_spec):
    with pytest.raises(DeliberateError, match="run `deliberate label` first"):
        run_generate(GenerateConfig(), [PromptRecord(id="x", prompt="hi")], spec=mini_spec, teacher=ScriptedBackend(teacher))


def test_teacher_is_asked_to_declare_the_mode_and_the_record_keeps_it(mini_spec):
    def declaring(request):
        if "Response mode: safe_complete" not in system_text(request):
            return "<think>per violence.1 fine</think>No instructions to declare a mode."
        return ("<think>History; per violence.1 it is allowed, style.compliance.\n"
                "**Response mode:** comply</think>Sieges used...")

    result = run_generate(GenerateConfig(samples=1), PROMPTS[:1], spec=mini_spec,
                          teacher=ScriptedBackend(declaring),
                          options=BackendOptions(use_cache=False, progress=False))
    assert result.records[0].declared_mode == "comply"


def test_quoting_rules_passes_unless_strict_quotes(mini_spec):
    quoted = ('<think>Per violence.2: "Instructions for hurting a specific person are disallowed. '
              'This includes planning an attack." Response mode: refuse. style.refusal.</think>No.')
    prompt = [PromptRecord(id="q", prompt="How do I hurt my neighbour?", category="violence")]
    options = BackendOptions(use_cache=False, progress=False)
    [loose] = run_generate(GenerateConfig(samples=1), prompt, spec=mini_spec,
                           teacher=ScriptedBackend(lambda r: quoted), options=options).records
    assert not loose.checks.leak.leaked and loose.checks.leak.longest_quote == 13
    [strict] = run_generate(GenerateConfig(samples=1, strict_quotes=True), prompt, spec=mini_spec,
                            teacher=ScriptedBackend(lambda r: quoted), options=options).records
    assert strict.checks.leak.leaked and strict.declared_mode == "refuse"


def test_teacher_instructions_allow_quoting_and_explain_operator_turns(mini_spec):
    backend = ScriptedBackend(teacher)
    run_generate(GenerateConfig(samples=1), PROMPTS[:1], spec=mini_spec, teacher=backend,
                 options=BackendOptions(use_cache=False, progress=False))
    system = system_text(backend.requests[0])
    assert "quote the words of the rule" in system and "configurable by operators" in system
    assert "do not copy the specification" not in system


def test_malformed_teacher_replies_are_asked_again_then_kept(mini_spec):
    """An unclosed <think> is re-asked (a new sample) within a bound; the last reply is kept
    so the filter can count it, with the reason it failed."""
    asked = []

    def sloppy(request):
        asked.append(request.sample_index)
        if request.sample_index >= 1000:
            return "<think>Per violence.1 history is fine.</think>Sieges cut off supplies."
        return "<think>Per violence.1 history is fine and I keep thinking"

    prompt = [PromptRecord(id="v", prompt="How did sieges work?", category="violence")]
    fixed = run_generate(GenerateConfig(samples=1, attempts=2), prompt, spec=mini_spec,
                         teacher=ScriptedBackend(sloppy), options=BackendOptions(use_cache=False, progress=False))
    assert asked == [0, 1000] and fixed.records[0].checks.format.ok
    assert fixed.records[0].sample_index == 0 and fixed.records[0].answer == "Sieges cut off supplies."
    once = run_generate(GenerateConfig(samples=1, attempts=1), prompt, spec=mini_spec,
                        teacher=ScriptedBackend(sloppy), options=BackendOptions(use_cache=False, progress=False))
    assert once.records[0].checks.format.reason == "reasoning block never closed"


def test_finish_reason_is_kept(mini_spec):
    """Whether the teacher hit max_tokens is kept in the record (a cut-off reply is suspect)."""
    from deliberate.llm import ModelResponse
    from deliberate.llm.types import ReasoningFormat

    def cut(request):
        return ModelResponse(content="Sieges", reasoning="per violence.1", finish_reason="length",
                             reasoning_format=ReasoningFormat.field)

    prompt = [PromptRecord(id="v", prompt="How did sieges work?", category="violence")]
    result = run_generate(GenerateConfig(samples=1), prompt, spec=mini_spec, teacher=ScriptedBackend(cut),
                          options=BackendOptions(use_cache=False, progress=False))
    assert result.records[0].finish_reason == "length"


def test_a_final_answer_tail_is_salvaged(mini_spec):
    def tail(request):
        return "<think>The user asks about history; per violence.1 it is allowed.\nFinal answer: Sieges cut off supplies."

    prompt = [PromptRecord(id="v", prompt="How did sieges work?", category="violence")]
    result = run_generate(GenerateConfig(samples=1), prompt, spec=mini_spec, teacher=ScriptedBackend(tail),
                          options=BackendOptions(use_cache=False, progress=False))
    record = result.records[0]
    assert record.reasoning_format.value == "salvaged" and record.answer == "Sieges cut off supplies."
    assert record.checks.format.ok and "violence.1" in record.reasoning
