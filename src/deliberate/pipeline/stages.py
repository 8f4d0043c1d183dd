"""Each pipeline stage as a small function of the run context: inputs -> outputs + counts.

Stages call the same library functions as the single-stage commands, with the run's cache, so a
stage killed mid-way resumes from what it had already received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.pipeline.config import PipelineConfig


@dataclass
class StageOutcome:
    outputs: list[Path]
    counts: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    config: PipelineConfig
    spec: Any

    @property
    def dir(self) -> Path:
        return self.config.run_dir

    def path(self, name: str) -> Path:
        return self.dir / name

    def require(self, role: str) -> str:
        model = getattr(self.config.models, role)
        if not model:
            raise DeliberateError(f"pipeline config: models.{role} is required by an enabled stage")
        return model


def load_sources(ctx: RunContext) -> list[Any]:
    from deliberate.records.sources import ColumnMap, load_prompts, subsample

    prompts = []
    for source in ctx.config.prompts:
        columns = ColumnMap(prompt=source.prompt_col, id=source.id_col, category=source.category_col)
        prompts += subsample(load_prompts(source.path, columns=columns, spec=ctx.spec), source.limit)
    return prompts


def label_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.label import label_prompts
    from deliberate.records.stage_output import write_stage_output

    prompts = load_sources(ctx)
    stage = ctx.config.stages.label
    if stage.enabled and (stage.relabel or any(not p.category for p in prompts)):
        labeler = ctx.require("labeler")
        result = label_prompts(prompts, ctx.spec, labeler, relabel=stage.relabel,
                               options=ctx.config.options_for(labeler))
        records, failures, usage = result.records, result.failures, result.usage
    else:
        from deliberate.llm import UsageReport

        records, failures, usage = prompts, [], UsageReport()
    out = ctx.path("labelled.jsonl")
    write_stage_output(out, records, failures, usage)
    return StageOutcome([out], {"prompts": len(records), "failed": len(failures)}, usage.model_dump())


def generate_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.cot import generate_cot
    from deliberate.llm import GenerateConfig
    from deliberate.records import read_jsonl
    from deliberate.records.prompt import PromptRecord
    from deliberate.records.stage_output import write_stage_output

    stage, teacher = ctx.config.stages.generate, ctx.require("teacher")
    prompts = read_jsonl(ctx.path("labelled.jsonl"), PromptRecord)
    result = generate_cot(prompts, ctx.spec, teacher, samples=stage.samples,
                          config=GenerateConfig(temperature=stage.temperature, max_tokens=stage.max_tokens),
                          options=ctx.config.options_for(teacher), think_tags=stage.think_tags)
    out = ctx.path("generations.jsonl")
    write_stage_output(out, result.records, result.failures, result.usage)
    counts = {"generations": len(result.records), "failed": len(result.failures),
              "citation_invalid": sum(not r.checks.citation.valid for r in result.records)}
    return StageOutcome([out], counts, result.usage.model_dump())


def judge_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.judge.judge import judge_generations
    from deliberate.records import read_jsonl
    from deliberate.records.generation import GenerationRecord
    from deliberate.records.stage_output import write_stage_output

    judge = ctx.require("judge")
    generations = read_jsonl(ctx.path("generations.jsonl"), GenerationRecord)
    result = judge_generations(generations, ctx.spec, judge, k=ctx.config.stages.judge.k,
                               options=ctx.config.options_for(judge))
    out = ctx.path("judged.jsonl")
    write_stage_output(out, result.records, result.failures, result.usage)
    counts = {"judged": len(result.records), "unscored": sum(r.score is None for r in result.records)}
    return StageOutcome([out], counts, result.usage.model_dump())


def filter_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.judge.filter import FilterConfig, filter_judged
    from deliberate.records import read_jsonl, write_jsonl
    from deliberate.records.generation import JudgedRecord
    from deliberate.records.stage_output import write_json_atomic

    settings = FilterConfig(**ctx.config.stages.filter.model_dump(exclude={"enabled"}))
    examples, summary = filter_judged(read_jsonl(ctx.path("judged.jsonl"), JudgedRecord), settings)
    if not examples:
        raise DeliberateError("filter kept no examples: lower stages.filter.min_score or check the judge")
    out = ctx.path("sft.jsonl")
    write_jsonl(out, examples)
    write_json_atomic(ctx.path("filter_summary.json"), summary.model_dump())
    return StageOutcome([out], {"kept": len(examples), "per_category": summary.kept})


def trained_model(ctx: RunContext) -> str:
    """The newest model the run produced (rl, else sft, else the student itself)."""
    for stage in ("rl", "sft"):
        if getattr(ctx.config.stages, stage).enabled and ctx.path(stage).joinpath("config.json").exists():
            return f"hf/{ctx.path(stage)}"
    return ctx.require("student")


def sft_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.train.pipeline_entry import run_sft_stage

    out = ctx.path("sft")
    metrics = run_sft_stage(model=ctx.require("student"), dataset=ctx.path("sft.jsonl"), output_dir=out,
                            overrides=ctx.config.stages.sft.args)
    return StageOutcome([out], metrics)


def rl_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.train.pipeline_entry import run_rl_stage

    start = trained_model(ctx) if ctx.config.stages.sft.enabled else ctx.require("student")
    judge = ctx.config.models.judge
    out = ctx.path("rl")
    options = ctx.config.options_for(judge)
    # The judge reward's replies go to the run's cache with every other model call (not the
    # user-wide default), unless the stage's args name another.
    overrides = {"judge_cache": str(options.cache), **ctx.config.stages.rl.args}
    metrics = run_rl_stage(model=start, dataset=ctx.path("labelled.jsonl"), output_dir=out,
                           spec=ctx.config.spec, judge=judge,
                           base_url=options.base_url if judge else None, overrides=overrides)
    return StageOutcome([out], metrics)


def eval_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.evals.runner import EvalConfig, run_eval
    from deliberate.llm import GenerateConfig

    stage = ctx.config.stages.eval
    models = [*stage.models, trained_model(ctx)]
    outputs, counts = [], {}
    for index, model in enumerate(dict.fromkeys(models)):
        out = ctx.path("eval") / f"{index}-{Path(model).name or 'model'}"
        config = EvalConfig(model=model, out=out, suites=stage.suites, spec=ctx.config.spec,
                            grader=ctx.config.models.grader, samples=stage.samples,
                            sampling=GenerateConfig(temperature=0.0, max_tokens=stage.max_tokens),
                            jailbreaks=stage.jailbreaks, limit=stage.limit,
                            strongreject_data=stage.strongreject_data, xstest_data=stage.xstest_data)
        metrics = run_eval(config, ctx.config.options_for(model))
        outputs.append(out)
        counts[model] = {s: {k: v for k, v in m.items() if not isinstance(v, dict)} for s, m in metrics.items()}
    return StageOutcome(outputs, counts)


def report_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.evals.report import build_report

    runs = sorted(p for p in ctx.path("eval").iterdir() if (p / "manifest.json").exists())
    out = build_report(runs, ctx.path("report.html"))
    return StageOutcome([out], {"runs": len(runs)})


STAGE_FUNCTIONS: dict[str, Callable[[RunContext], StageOutcome]] = {
    "label": label_stage, "generate": generate_stage, "judge": judge_stage, "filter": filter_stage,
    "sft": sft_stage, "rl": rl_stage, "eval": eval_stage, "report": report_stage,
}
STAGE_INPUTS: dict[str, list[str]] = {
    "label": [], "generate": ["labelled.jsonl"], "judge": ["generations.jsonl"], "filter": ["judged.jsonl"],
    "sft": ["sft.jsonl"], "rl": ["labelled.jsonl", "sft"], "eval": ["sft", "rl"], "report": ["eval"],
}
