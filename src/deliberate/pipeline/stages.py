"""Each pipeline stage as a small function of the run context: inputs -> outputs + counts.

A stage builds its own config from its ``stages.<name>`` section and calls the same
function as the single-stage command (label, generate and judge stream: inputs read lazily,
records written chunk by chunk), with the loaded spec and the run's backend
options (the run's cache), so a stage killed mid-way resumes from what it had received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.pipeline.batching import run_model_stage
from deliberate.pipeline.config import PipelineConfig, stage_config
from deliberate.records.shards import Shard


@dataclass
class StageOutcome:
    outputs: list[Path]
    counts: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    config: PipelineConfig
    spec: Any
    shard: Shard | None = None
    """Run one shard of the data stages: their outputs are ``<name>.shard-K-of-N.jsonl``."""

    @property
    def dir(self) -> Path:
        return self.config.run_dir

    def path(self, name: str) -> Path:
        return self.dir / name

    def output(self, name: str) -> Path:
        """A data stage's file: ``name`` itself, or the shard's (``labelled.shard-1-of-4.jsonl``)."""
        if self.shard is None:
            return self.path(name)
        stem, _, suffix = name.partition(".")
        return self.path(f"{stem}.{self.shard.tag}.{suffix}")

    def input(self, name: str) -> Path:
        """A data stage's input: the shard's file, or (a shard whose earlier stage did not run
        here, e.g. label disabled) the whole file, which :func:`_records` filters to the shard."""
        own = self.output(name)
        return own if own.exists() or not self.path(name).exists() else self.path(name)

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


def iter_sources(ctx: RunContext) -> Iterator[Any]:
    """The prompts of every source, lazily (a source with a ``limit`` is loaded whole, to draw
    its seeded subset), only the run's shard's when it has one."""
    from deliberate.records.sources import ColumnMap, iter_prompts, load_prompts, subsample

    keep = ctx.shard.contains if ctx.shard else None
    for source in ctx.config.prompts:
        columns = ColumnMap(prompt=source.prompt_col, id=source.id_col, category=source.category_col)
        if source.limit is None:
            yield from iter_prompts(source.path, columns=columns, categories=ctx.spec.category_ids,
                                    keep=keep)
        else:
            loaded = load_prompts(source.path, columns=columns, categories=ctx.spec.category_ids)
            yield from (p for p in subsample(loaded, source.limit) if keep is None or keep(p.id))


def _outcome(out: Path, totals: Any, counts: dict[str, Any]) -> StageOutcome:
    return StageOutcome([out], counts, totals.usage.model_dump())


def label_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.label import LabelConfig, stream_label

    config = stage_config(ctx.config.stages.label, LabelConfig)

    def checked(prompts: Iterator[Any]) -> Iterator[Any]:
        for prompt in prompts:  # a labeler is needed only once a prompt needs a label
            if config.relabel or not prompt.category:
                ctx.require("labeler")
            yield prompt

    labeler = ctx.config.models.labeler or "none"
    out, options = ctx.output("labelled.jsonl"), ctx.config.options_for(labeler)
    section = ctx.config.stages.label if ctx.config.models.labeler else None  # batch: a labeler
    totals = run_model_stage(section, "label", labeler, options, out, lambda model, target: stream_label(
        config, checked(iter_sources(ctx)), target, spec=ctx.spec, labeler=model, options=options))
    return _outcome(out, totals, {"prompts": totals.records, "failed": totals.failures})


def _records(ctx: RunContext, name: str, record_type: type[Any]) -> Iterator[Any]:
    """The records of a stage's input, lazily; a whole file read by a shard: its records only."""
    from deliberate.records import iter_records

    path = ctx.input(name)
    records = (record for _, record in iter_records(path, record_type))
    if ctx.shard is None or path == ctx.output(name):
        return records
    shard = ctx.shard
    return (r for r in records if shard.contains(getattr(r, "prompt_id", None) or r.id))


def _model_stage(ctx: RunContext, name: str, role: str, source: tuple[str, type[Any]],
                 out_name: str, stream: Any, config: Any) -> tuple[Path, Any]:
    """Stream ``source``'s records through ``stream`` (``stream_generate``/``stream_judge``)
    with the model in ``role``, through the Batch API when the stage says ``batch: true``."""
    model, out = ctx.require(role), ctx.output(out_name)
    options = ctx.config.options_for(model)
    totals = run_model_stage(getattr(ctx.config.stages, name), name, model, options, out,
                             lambda backend, target: stream(
                                 config, _records(ctx, *source), target, spec=ctx.spec,
                                 options=options, **{role: backend}))
    return out, totals


def generate_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.generate.cot import GenerateConfig, stream_generate
    from deliberate.records.prompt import PromptRecord

    config = stage_config(ctx.config.stages.generate, GenerateConfig)
    out, totals = _model_stage(ctx, "generate", "teacher", ("labelled.jsonl", PromptRecord),
                               "generations.jsonl", stream_generate, config)
    return _outcome(out, totals, {"generations": totals.records, "failed": totals.failures,
                                  "citation_invalid": totals.tallies.get("citation_invalid", 0)})


def judge_stage(ctx: RunContext) -> StageOutcome:
    from deliberate.judge.judge import JudgeConfig, stream_judge
    from deliberate.records.generation import GenerationRecord

    config = stage_config(ctx.config.stages.judge, JudgeConfig)
    out, totals = _model_stage(ctx, "judge", "judge", ("generations.jsonl", GenerationRecord),
                               "judged.jsonl", stream_judge, config)
    return _outcome(out, totals, {"judged": totals.records,
                                  "unscored": totals.tallies.get("unscored", 0)})


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
