"""Each pipeline stage as a small function of the run context: inputs -> outputs + counts.

A stage builds its own config from its ``stages.<name>`` section and calls the same
``run_<stage>`` function as the single-stage command, with the loaded spec and the run's backend
options (the run's cache), so a stage killed mid-way resumes from what it had received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.pipeline.batching import run_model_stage
from deliberate.pipeline.config import PipelineConfig, stage_config


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
        loaded = load_prompts(source.path, columns=columns, categories=ctx.spec.category_ids)
        prompts += subsample(loaded, source.limit)
    return prompts


def _write(out: Path, result: Any, counts: dict[str, Any]) -> StageOutcome:
    from deliberate.records.stage_output import write_stage_output

    write_stage_output(out, result.records, result.failures, result.usage)
    return StageOutcome([out], counts, result.usage.model_dump())


def label_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.label import LabelConfig, run_label
    from deliberate.llm import UsageReport
    from deliberate.records.stage_output import StageResult

    prompts = load_sources(ctx)
    config = stage_config(ctx.config.stages.label, LabelConfig)
    if config.relabel or any(not p.category for p in prompts):
        labeler = ctx.require("labeler")
        options = ctx.config.options_for(labeler)
        result = run_model_stage(ctx.config.stages.label, "label", labeler, options,
                                 ctx.path("labelled.jsonl"), lambda model: run_label(
                                     config, prompts, spec=ctx.spec, labeler=model, options=options))
    else:
        result = StageResult(prompts, [], UsageReport())
    counts = {"prompts": len(result.records), "failed": len(result.failures)}
    return _write(ctx.path("labelled.jsonl"), result, counts)


def _model_stage(ctx: RunContext, role: str, source: str, record_type: type[Any], run: Any,
                 config: Any, name: str, out: str) -> Any:
    """Read ``source`` as ``record_type`` and run a stage with the model in ``role``."""
    from deliberate.records import read_jsonl

    model = ctx.require(role)
    records, options = read_jsonl(ctx.path(source), record_type), ctx.config.options_for(model)
    return run_model_stage(getattr(ctx.config.stages, name), name, model, options, ctx.path(out),
                           lambda backend: run(config, records, spec=ctx.spec, options=options,
                                               **{role: backend}))


def generate_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.cot import GenerateConfig, run_generate
    from deliberate.records.prompt import PromptRecord

    config = stage_config(ctx.config.stages.generate, GenerateConfig)
    result = _model_stage(ctx, "teacher", "labelled.jsonl", PromptRecord, run_generate, config,
                          "generate", "generations.jsonl")
    counts = {"generations": len(result.records), "failed": len(result.failures),
              "citation_invalid": sum(not r.checks.citation.valid for r in result.records)}
    return _write(ctx.path("generations.jsonl"), result, counts)


def judge_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.judge.judge import JudgeConfig, run_judge
    from deliberate.records.generation import GenerationRecord

    config = stage_config(ctx.config.stages.judge, JudgeConfig)
    result = _model_stage(ctx, "judge", "generations.jsonl", GenerationRecord, run_judge, config,
                          "judge", "judged.jsonl")
    counts = {"judged": len(result.records), "unscored": sum(r.score is None for r in result.records)}
    return _write(ctx.path("judged.jsonl"), result, counts)


def filter_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.judge.filter import FilterConfig, run_filter
    from deliberate.records import read_jsonl, write_jsonl
    from deliberate.records.generation import JudgedRecord
    from deliberate.records.stage_output import write_json_atomic

    config = stage_config(ctx.config.stages.filter, FilterConfig)
    examples, summary = run_filter(config, read_jsonl(ctx.path("judged.jsonl"), JudgedRecord))
    if not examples:
        raise DeliberateError("filter kept no examples: lower stages.filter.min_score or check the judge")
    out = ctx.path("sft.jsonl")
    write_jsonl(out, examples)
    write_json_atomic(ctx.path("filter_summary.json"), summary.model_dump())
    return StageOutcome([out], {"kept": len(examples), "per_category": summary.kept})


def trained_model(ctx: RunContext) -> str:
    """The newest model the run produced (rl, else sft, else the student itself).

    A training output counts when it holds a full model (``config.json``) or a LoRA adapter
    (``adapter_config.json``, loaded on top of its base model).
    """
    for stage in ("rl", "sft"):
        out = ctx.path(stage)
        if getattr(ctx.config.stages, stage).enabled and (
                (out / "config.json").exists() or (out / "adapter_config.json").exists()):
            return f"hf/{out}"
    return ctx.require("student")


def check_trained(ctx: RunContext, trained: str) -> None:
    """With training enabled, "after" must be the trained output and differ from the student.

    A number that describes the wrong model is worse than none: stop instead of evaluating the
    base model (or an old adapter) under the trained model's name.
    """
    from deliberate.records.provenance import ModelInfo

    stages = ctx.config.stages
    if not (stages.sft.enabled or stages.rl.enabled):
        return
    student = ctx.require("student")
    if trained == student:
        folders = " or ".join(str(ctx.path(s)) for s in ("rl", "sft") if getattr(stages, s).enabled)
        raise DeliberateError(f"eval: training is enabled but {folders} holds no trained model "
                              "(no config.json or adapter_config.json): refusing to evaluate the "
                              "base student as the trained one")
    after, before = ModelInfo.of(trained).fingerprint, ModelInfo.of(student).fingerprint
    if after is None or after == before:
        raise DeliberateError(f"eval: the trained model {trained} has the same weights as the "
                              f"student {student} (fingerprint {after}): training changed nothing")


def _training_summary(result: Any) -> dict[str, Any]:
    losses = [e["loss"] for e in result.log_history if "loss" in e]
    rewards = [e["reward"] for e in result.log_history if "reward" in e]
    return {"global_step": result.global_step, "resumed_from": result.resumed_from,
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "last_reward": rewards[-1] if rewards else None}


def sft_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.train.config import SFTTrainConfig, config_from_dict
    from deliberate.train.sft import run_sft

    out = ctx.path("sft")
    fields = {"resume": True, **ctx.config.stages.sft.fields, "model": ctx.require("student"),
              "dataset": str(ctx.path("sft.jsonl")), "output_dir": str(out)}
    result = run_sft(config_from_dict(SFTTrainConfig, fields, where="stages.sft"))
    return StageOutcome([out], _training_summary(result))


def rl_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.train.config import RLTrainConfig, config_from_dict
    from deliberate.train.rl import run_rl

    judge = ctx.config.models.judge
    out = ctx.path("rl")
    start = trained_model(ctx) if ctx.config.stages.sft.enabled else ctx.require("student")
    fields = {"resume": True, **ctx.config.stages.rl.fields, "model": start, "judge": judge,
              "spec": ctx.config.spec, "dataset": str(ctx.path("labelled.jsonl")),
              "output_dir": str(out)}
    config = config_from_dict(RLTrainConfig, fields, where="stages.rl")
    # The judge reward's calls use the run's backend options and cache, like every other call.
    result = run_rl(config, spec=ctx.spec, judge_options=ctx.config.options_for(judge).model_copy(
        update={"progress": False}))
    return StageOutcome([out], _training_summary(result))


def eval_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.runner import run_eval

    stage = ctx.config.stages.eval
    config = stage_config(stage, EvalConfig)
    if ctx.config.models.grader and not config.grader:
        config = config.model_copy(update={"grader": ctx.config.models.grader})
    trained = trained_model(ctx)
    check_trained(ctx, trained)
    outputs, counts = [], {}
    for index, model in enumerate(dict.fromkeys([*stage.models, trained])):
        out = ctx.path("eval") / f"{index}-{Path(model).name or 'model'}"
        metrics = run_eval(config, model=model, out=out, spec=ctx.spec,
                           options=ctx.config.options_for(model),
                           max_failure_rate=ctx.config.max_failure_rate)
        outputs.append(out)
        counts[model] = {s: {k: v for k, v in m.items() if not isinstance(v, dict)}
                         for s, m in metrics.items()}
    return StageOutcome(outputs, counts)


def report_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.report.build import ReportConfig, run_report

    runs = sorted(p for p in ctx.path("eval").iterdir() if (p / "manifest.json").exists())
    out = run_report(stage_config(ctx.config.stages.report, ReportConfig), runs, ctx.path("report.html"))
    return StageOutcome([out], {"runs": len(runs)})


STAGE_FUNCTIONS: dict[str, Callable[[RunContext], StageOutcome]] = {
    "label": label_stage, "generate": generate_stage, "judge": judge_stage, "filter": filter_stage,
    "sft": sft_stage, "rl": rl_stage, "eval": eval_stage, "report": report_stage,
}
STAGE_INPUTS: dict[str, list[str]] = {
    "label": [], "generate": ["labelled.jsonl"], "judge": ["generations.jsonl"], "filter": ["judged.jsonl"],
    "sft": ["sft.jsonl"], "rl": ["labelled.jsonl", "sft"], "eval": ["sft", "rl"], "report": ["eval"],
}
