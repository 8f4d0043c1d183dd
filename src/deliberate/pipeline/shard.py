"""``deliberate run CONFIG --shard K/N``: one shard of a pipeline's data stages, on one machine.

Each machine runs the leading data stages of the selection (label, generate, judge) on its own
shard of the prompts (:mod:`deliberate.records.shards`), writing ``labelled.shard-K-of-N.jsonl``
and so on in the run folder, and stops before the first other stage (the filter ranks, dedups
and caps across all prompts; training needs the whole dataset): the shards are merged first
(``deliberate merge``), then ``deliberate run CONFIG --from filter`` goes on.

Shards do not touch the run's manifest (several machines may share the folder); each keeps the
hash of its stages (and whether each finished) in ``shards/<shard-K-of-N>.json``, so a rerun skips a finished,
unchanged stage, and a stage whose inputs or settings changed has its old files moved aside.
A killed shard resumes where it stopped (:mod:`deliberate.records.chunked`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.pipeline.config import PipelineConfig
from deliberate.records.shards import Shard

DATA_STAGES = ("label", "generate", "judge")
MERGED = {"label": "labelled", "generate": "generations", "judge": "judged"}


def shard_stages(stages: list[str]) -> list[str]:
    """The leading data stages of ``stages`` (what a shard runs)."""
    leading = []
    for stage in stages:
        if stage not in DATA_STAGES:
            break
        leading.append(stage)
    if not leading:
        raise DeliberateError(f"--shard runs the data stages ({', '.join(DATA_STAGES)}); the "
                              f"selection starts at '{stages[0] if stages else 'nothing'}'")
    return leading


def run_shard(config: PipelineConfig, shard: Shard, *, from_stage: str | None = None,
              only: str | None = None, force: bool = False, log: Any = print) -> list[str]:
    """Run ``shard`` of the selected data stages; returns the stages it ran or found done."""
    from deliberate.pipeline.outputs import move_aside
    from deliberate.pipeline.preflight import preflight
    from deliberate.pipeline.run import (
        _prepare_run_dir,
        check_stage_failures,
        selected_stages,
        stage_hash,
    )
    from deliberate.pipeline.stages import STAGE_FUNCTIONS, RunContext
    from deliberate.spec import load_spec

    ctx = RunContext(config, load_spec(config.spec), shard)
    stages = shard_stages(selected_stages(config, from_stage, only))
    for note in preflight(config, stages):
        log(f"note: {note}")
    _prepare_run_dir(config)
    stamps_path = config.run_dir / "shards" / f"{shard.tag}.json"
    stamps = json.loads(stamps_path.read_text()) if stamps_path.is_file() else {}
    for stage in stages:
        digest, entry = stage_hash(ctx, stage), stamps.get(stage) or {}
        out = ctx.output(f"{MERGED[stage]}.jsonl")
        if entry.get("hash") == digest and entry.get("done") and out.is_file() and not force:
            log(f"[{stage} {shard}] up to date, skipped")
            continue
        if entry and (entry.get("hash") != digest or force):
            _move_shard_aside(ctx, stage, move_aside, log)
        stamps[stage] = {"hash": digest, "done": False}  # a rerun resumes only the same work
        _save_stamps(stamps_path, stamps)
        log(f"[{stage} {shard}] running")
        outcome = STAGE_FUNCTIONS[stage](ctx)
        check_stage_failures(ctx, stage, outcome)
        stamps[stage]["done"] = True
        _save_stamps(stamps_path, stamps)
        log(f"[{stage} {shard}] done: {outcome.counts}")
    return stages


def _move_shard_aside(ctx: Any, stage: str, move_aside: Any, log: Any) -> None:
    """Move this shard's old files of ``stage`` aside (other shards' files stay)."""
    from deliberate.pipeline.outputs import STAGE_OUTPUTS

    names = [Path(ctx.output(name)).name for name in STAGE_OUTPUTS[stage]]
    moved = move_aside(ctx.dir, stage, names)
    if moved:
        log(f"[{stage} {ctx.shard}] inputs or settings changed: earlier outputs moved to {moved}")


def _save_stamps(path: Path, stamps: dict[str, str]) -> None:
    from deliberate.records.stage_output import write_json_atomic

    write_json_atomic(path, stamps)


def merge_hint(config: PipelineConfig, shard: Shard, stages: list[str], config_path: Any, *,
               done: bool = True) -> list[str]:
    """What to do once every shard is done: the merge commands, then the rest of the run
    (``done=False``: the same, said ahead, for ``--dry-run``)."""
    run_dir = config.run_dir
    head = f"shard {shard} done ({', '.join(stages)})" if done else \
        f"shard {shard} stops here (before the stages that need every prompt)"
    lines = [f"{head}. When all {shard.count} shards are done, merge them:"]
    for stage in stages:
        name = MERGED[stage]
        lines.append(f"  deliberate merge {run_dir / name}.jsonl "
                     f"'{run_dir / name}.shard-*-of-{shard.count}.jsonl'")
    lines.append(f"then go on: deliberate run {config_path} --from "
                 f"{_next_stage(config, stages[-1])}")
    return lines


def _next_stage(config: PipelineConfig, last: str) -> str:
    from deliberate.pipeline.config import STAGES

    later = [s for s in STAGES[STAGES.index(last) + 1:] if getattr(config.stages, s).enabled]
    return later[0] if later else "filter"
