"""``deliberate eval``: sample a model's responses on the suites, grade them, write metrics.

Responses go through the cached, resumable backend runner, so an interrupted evaluation picks up
where it stopped and re-grading is free. Graders see only the final answer, never the reasoning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks.catalog import DEFAULT_JAILBREAKS
from deliberate.evals.results import SUITES, EvalManifest
from deliberate.llm import BackendOptions, GenerateConfig
from deliberate.provenance import package_versions
from deliberate.records.prompt import PromptRecord


class EvalConfig(BaseModel):
    """What to evaluate and how (mirrored by ``deliberate eval`` flags)."""

    model: str = Field(description="Model ref to evaluate.")
    out: Path = Field(description="Run directory to write.")
    suites: list[str] = Field(default_factory=lambda: list(SUITES), description="Suites to run.")
    spec: str = Field(default="default", description="Spec for the spec suite and --spec-in-context.")
    spec_in_context: bool = Field(default=False, description="Put the whole spec in the system prompt.")
    system_prompt: str | None = Field(default=None, description="A system prompt for every request.")
    grader: str | None = Field(default=None, description="LLM grader (StrongREJECT rubric, refusal, judge).")
    refusal_method: str = Field(default="auto", description="No-API refusal grader: auto | rules | embedding | lm.")
    judge_k: int = Field(default=1, ge=1, description="Spec-judge samples per answer (min aggregated).")
    samples: int = Field(default=1, ge=1, description="Samples per prompt.")
    sampling: GenerateConfig = Field(default_factory=lambda: GenerateConfig(temperature=0.0, max_tokens=1024))
    jailbreaks: str = Field(default=DEFAULT_JAILBREAKS, description="'official', 'all', 'bon:N', or a comma list.")
    limit: int | None = Field(default=None, ge=1, description="Seeded subsample of prompts per suite.")
    strongreject_data: str | None = Field(default=None, description="Local StrongREJECT CSV.")
    xstest_data: str | None = Field(default=None, description="Local XSTest prompts CSV.")
    spec_prompts: str | None = Field(default=None, description="Spec-suite prompts (default: spec examples).")
    label: str | None = Field(default=None, description="Display name in reports.")


class EvalItem(NamedTuple):
    record: PromptRecord  # what is sent; id unique per (prompt, jailbreak)
    base: PromptRecord
    group: str | None
    label: str | None
    jailbreak: str | None


def run_eval(config: EvalConfig, options: BackendOptions | None = None, *, model: Any = None) -> dict[str, dict]:
    """Run every suite; returns ``{suite: metrics}`` and writes the run directory."""
    from deliberate.evals.grade_suites import grade_suite
    from deliberate.evals.metrics import suite_metrics
    from deliberate.generate.sample import StageResult, sample_responses
    from deliberate.records.jsonl import write_jsonl
    from deliberate.records.stage_output import write_json_atomic
    from deliberate.spec import load_spec

    unknown = [s for s in config.suites if s not in SUITES]
    if unknown:
        raise DeliberateError(f"unknown suite(s) {unknown} (use {', '.join(SUITES)})")
    spec = load_spec(config.spec)
    system = spec.render() if config.spec_in_context else config.system_prompt
    target = model if model is not None else config.model
    # All suites go to the model in one run: local models load once and fill whole batches.
    items = {
        suite: [i._replace(record=i.record.model_copy(update={"id": f"{suite}::{i.record.id}"}))
                for i in build_items(suite, config, spec)]
        for suite in config.suites
    }
    sampled = sample_responses([i.record for suite in config.suites for i in items[suite]], target,
                               samples=config.samples, config=config.sampling, options=options,
                               system_prompt=system, stage="eval " + ",".join(config.suites))
    metrics: dict[str, dict] = {}
    for suite in config.suites:
        prefix = f"{suite}::"
        mine = StageResult([r for r in sampled.records if r.prompt_id.startswith(prefix)],
                           [f for f in sampled.failures if f.id.startswith(prefix)], sampled.usage)
        results = grade_suite(suite, items[suite], mine, config, spec, options)
        write_jsonl(config.out / suite / "results.jsonl", results)
        metrics[suite] = suite_metrics(suite, results)
    write_json_atomic(config.out / "metrics.json", metrics)
    write_json_atomic(config.out / "manifest.json", _manifest(config).model_dump(mode="json"))
    return metrics


def build_items(suite: str, config: EvalConfig, spec: Any) -> list[EvalItem]:
    if suite == "strongreject":
        from deliberate.evals.jailbreaks import apply_jailbreak, jailbreak_names
        from deliberate.evals.strongreject import load_strongreject

        try:
            names = jailbreak_names(config.jailbreaks)
        except ValueError as exc:
            raise DeliberateError(str(exc)) from None
        return [
            EvalItem(base.model_copy(update={"id": f"{base.id}|{name}", "prompt": apply_jailbreak(name, base.text)}),
                     base, name, None, name)
            for base in load_strongreject(config.strongreject_data, limit=config.limit)
            for name in names
        ]
    if suite == "xstest":
        from deliberate.evals.xstest import load_xstest

        return [EvalItem(p, p, str(p.metadata.get("type")), str(p.metadata.get("label")), None)
                for p in load_xstest(config.xstest_data, limit=config.limit)]
    from deliberate.evals.spec_suite import load_spec_prompts
    from deliberate.records.sources import subsample

    prompts = subsample(load_spec_prompts(spec, config.spec_prompts), config.limit)
    return [EvalItem(p, p, "+".join(p.category or ["none"]), p.expected_mode.value if p.expected_mode else None, None)
            for p in prompts]


def _manifest(config: EvalConfig) -> EvalManifest:
    from deliberate.evals.jailbreaks import jailbreak_names

    return EvalManifest(
        model=config.model, suites=config.suites, samples=config.samples,
        sampling=config.sampling.model_dump(), grader=config.grader, spec=config.spec,
        spec_in_context=config.spec_in_context,
        jailbreaks=jailbreak_names(config.jailbreaks) if "strongreject" in config.suites else [],
        limit=config.limit, created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        versions=package_versions(), label=config.label,
    )
