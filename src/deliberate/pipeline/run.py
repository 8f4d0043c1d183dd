"""``deliberate run``: execute the enabled stages in order, resuming what is already done."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.pipeline.config import STAGES, PipelineConfig, dump_config
from deliberate.pipeline.inputs import hash_inputs
from deliberate.pipeline.stages import STAGE_FUNCTIONS, STAGE_INPUTS, RunContext
from deliberate.records.provenance import MANIFEST, Provenance, StageRecord, now
from deliberate.records.shards import Shard


def selected_stages(config: PipelineConfig, from_stage: str | None = None, only: str | None = None) -> list[str]:
    for name in (from_stage, only):
        if name is not None and name not in STAGES:
            raise DeliberateError(f"unknown stage '{name}' (stages: {', '.join(STAGES)})")
    enabled = [s for s in STAGES if getattr(config.stages, s).enabled]
    if only:
        return [only]
    if from_stage:
        return [s for s in enabled if STAGES.index(s) >= STAGES.index(from_stage)]
    return enabled


STAGE_USES_SPEC = {"label", "generate", "judge", "rl", "eval"}


def stage_hash(ctx: RunContext, stage: str) -> str:
    """What the stage's outputs depend on: its own settings, the models it calls, the spec (if
    it reads one) and its input files. A training setting does not re-run label or generate."""
    from deliberate.pipeline.preflight import STAGE_ROLES

    models = ctx.config.models.model_dump()
    settings = {
        "stage": getattr(ctx.config.stages, stage).model_dump(mode="json"),
        "models": {role: models[role] for role in STAGE_ROLES[stage]},
        "spec": ctx.spec.content_hash if stage in STAGE_USES_SPEC else None,
        "prompts": [p.model_dump() for p in ctx.config.prompts] if stage == "label" else None,
        "eval_models": ctx.config.stages.eval.models if stage == "eval" else None,
        "shard": str(ctx.shard) if ctx.shard else None,
    }
    files = [ctx.input(name) for name in STAGE_INPUTS[stage]]
    if stage == "label":
        files += [Path(p.path) for p in ctx.config.prompts if not p.path.startswith("hf:")]
    return hash_inputs(settings, files)


def pipeline_manifest(config: PipelineConfig, spec: Any) -> Provenance:
    """A fresh run manifest for this invocation, carrying over the stages of an earlier one."""
    from deliberate.records.provenance import ModelInfo, SpecInfo

    previous = Provenance.load(config.run_dir) if (config.run_dir / MANIFEST).is_file() else None
    models = {role: ModelInfo(ref=ref) for role, ref in config.models.model_dump().items() if ref}
    return Provenance.start("pipeline", config.model_dump(mode="json"), models=models,
                            spec=SpecInfo.of(spec, source=config.spec),
                            stages=previous.stages if previous else {})


def _prepare_run_dir(config: PipelineConfig) -> None:
    from deliberate.records.stage_output import write_text_atomic

    if config.run_dir.exists() and not config.run_dir.is_dir():
        raise DeliberateError(f"run_dir: {config.run_dir} exists and is not a folder")
    config.run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(config.run_dir / "config.resolved.yaml", dump_config(config))


def run_pipeline(config: PipelineConfig, *, from_stage: str | None = None, only: str | None = None,
                 force: bool = False, log: Any = print) -> Provenance:
    """Run the selected stages; a finished stage with unchanged inputs is skipped.

    Preflight first (models, endpoints, files); a stage whose inputs changed has its old
    outputs moved aside before it runs; Ctrl-C leaves the manifest saying "interrupted".
    """
    from deliberate.pipeline.preflight import preflight
    from deliberate.spec import load_spec

    spec = load_spec(config.spec)
    ctx = RunContext(config, spec)
    stages = selected_stages(config, from_stage, only)
    for note in preflight(config, stages):
        log(f"note: {note}")
    _prepare_run_dir(config)
    manifest = pipeline_manifest(config, spec)
    forced = set(stages) if (from_stage or only) else set()  # named stages rerun on purpose
    for stage in stages:
        digest = stage_hash(ctx, stage)
        record = manifest.stages.get(stage, StageRecord())
        if record.status == "done" and record.input_hash == digest and stage not in forced and not force:
            log(f"[{stage}] up to date, skipped")
            continue
        _run_stage(ctx, manifest, stage, digest, record, log)
    manifest.finish().save(config.run_dir)
    return manifest


def _run_stage(ctx: RunContext, manifest: Provenance, stage: str, digest: str, previous: StageRecord,
               log: Any) -> None:
    from deliberate.pipeline.outputs import move_aside

    run_dir = ctx.config.run_dir
    resumable = previous.status == "running" and previous.input_hash == digest
    if not resumable and (moved := move_aside(run_dir, stage)):
        log(f"[{stage}] inputs or settings changed: earlier outputs moved to {moved}")
    manifest.stages[stage] = StageRecord(status="running", input_hash=digest, started=now())
    manifest.save(run_dir)
    log(f"[{stage}] " + ("resuming" if resumable else "running"))
    start = time.perf_counter()
    try:
        outcome = STAGE_FUNCTIONS[stage](ctx)
        check_stage_failures(ctx, stage, outcome)
    except BaseException as exc:
        _record_failure(manifest, stage, exc, run_dir)
        raise
    done = manifest.stages[stage]
    done.status, done.finished, done.seconds = "done", now(), round(time.perf_counter() - start, 2)
    done.counts, done.usage = outcome.counts, outcome.usage
    done.outputs = [str(p.relative_to(run_dir)) if p.is_relative_to(run_dir) else str(p)
                    for p in outcome.outputs]
    manifest.save(run_dir)
    log(f"[{stage}] done in {done.seconds:.1f}s: {outcome.counts}")


def _record_failure(manifest: Provenance, stage: str, exc: BaseException, run_dir: Path) -> None:
    interrupted = isinstance(exc, KeyboardInterrupt)
    status = "interrupted" if interrupted else "failed"
    message = "interrupted (Ctrl-C)" if interrupted else f"{type(exc).__name__}: {exc}"
    manifest.stages[stage].status, manifest.stages[stage].error = status, message
    manifest.finish(status, f"{stage}: {message}").save(run_dir)
    if not interrupted and not isinstance(exc, DeliberateError):
        traceback.print_exc()


def check_stage_failures(ctx: RunContext, stage: str, outcome: Any) -> None:
    """Exit 3 (:class:`StageFailed`) when more than ``max_failure_rate`` of a stage's items failed."""
    from deliberate.records.stage_output import check_failure_rate

    counts = outcome.counts
    if stage == "judge":
        total, failed = counts.get("judged", 0), counts.get("unscored", 0)
    elif stage in ("label", "generate"):
        failed = counts.get("failed", 0)
        total = failed + counts.get("prompts", counts.get("generations", 0))
    else:
        return
    check_failure_rate(stage, total, failed, ctx.config.max_failure_rate,
                       outcome.outputs[0].with_name(f"{outcome.outputs[0].stem}.failures.jsonl"))


def plan(config: PipelineConfig, *, from_stage: str | None = None, only: str | None = None,
         shard: Shard | None = None) -> list[tuple[str, str]]:
    """(stage, what it will do incl. the number of model calls) for ``--dry-run``, after the same
    preflight as a real run (its notes come first, as ``note`` lines). With ``shard``: the data
    stages that shard runs, on its prompts, and the files it writes. The sources are read as a
    stream (counted, not held)."""
    from deliberate.pipeline.preflight import preflight
    from deliberate.pipeline.stages import iter_sources
    from deliberate.spec import load_spec

    spec = load_spec(config.spec)
    stages = selected_stages(config, from_stage, only)
    if shard is not None:
        from deliberate.pipeline.shard import shard_stages

        stages = shard_stages(stages)
    notes = [("note", note) for note in preflight(config, stages)]
    ctx = RunContext(config, spec, shard)
    n = unlabelled = everywhere = 0
    for prompt in iter_sources(RunContext(config, spec)):
        everywhere += 1
        if shard is None or shard.contains(prompt.id):
            n, unlabelled = n + 1, unlabelled + (not prompt.category)
    st = config.stages
    samples = st.generate.samples
    of = f" of {everywhere} (shard {shard})" if shard is not None else ""
    lines = {
        "label": f"{n} prompts{of}; {unlabelled if not st.label.relabel else n} labeler calls ({config.models.labeler})",
        "generate": f"{n} x {samples} samples = {n * samples} teacher calls ({config.models.teacher})",
        "judge": f"up to {n * samples} x judge_k={st.judge.judge_k} = {n * samples * st.judge.judge_k} judge calls ({config.models.judge})",
        "filter": f"min score {st.filter.min_score}; no model calls",
        "sft": f"train {config.models.student}; no API calls",
        "rl": f"GRPO on {n} prompts; judge calls depend on steps x generations ({config.models.judge or 'rule-based reward'})",
        "eval": f"{_eval_calls(config)} model calls per evaluated model ({len(st.eval.models) + 1} models)",
        "report": "no model calls",
    }
    if shard is not None:
        from deliberate.pipeline.shard import MERGED

        for stage in stages:
            lines[stage] += f" -> {ctx.output(MERGED[stage] + '.jsonl')}"
    return notes + [(s, lines[s]) for s in stages]


def _eval_calls(config: PipelineConfig) -> int:
    from deliberate.evals.jailbreaks import jailbreak_names

    st = config.stages.eval
    limit = st.limit
    sizes = {"strongreject": min(limit or 313, 313) * len(jailbreak_names(st.jailbreaks)),
             "xstest": min(limit or 450, 450), "spec": limit or 0}
    return sum(sizes.get(s, 0) for s in st.suites) * st.samples
