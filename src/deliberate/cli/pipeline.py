"""``deliberate run`` and ``deliberate init``."""

from __future__ import annotations

from pathlib import Path

import click

from deliberate.cli.streaming import shard_option
from deliberate.records.shards import Shard


@click.command("run")
@click.argument("config_path", type=click.Path(path_type=Path), metavar="CONFIG.yaml")
@click.option("--from", "from_stage", default=None, help="Start at this stage (reruns it and later ones).")
@click.option("--only", default=None, help="Run only this stage.")
@click.option("--dry-run", is_flag=True, help="Print the plan and model-call counts; call no model.")
@click.option("--force", is_flag=True, help="Rerun stages even if up to date.")
@shard_option
def run(config_path: Path, from_stage: str | None, only: str | None, dry_run: bool, force: bool,
        shard: Shard | None) -> None:
    """Run the whole pipeline from one config; re-running resumes where it stopped.

    With --shard K/N: only shard K of the data stages (label, generate, judge), for one of N
    machines; it stops before the first other stage and says how to merge the shards.
    """
    from rich.console import Console

    from deliberate.pipeline.config import load_pipeline_config
    from deliberate.pipeline.run import plan, run_pipeline

    config = load_pipeline_config(config_path)
    console = Console(stderr=True, highlight=False)
    if shard is not None and not dry_run:
        from deliberate.pipeline.shard import merge_hint, run_shard

        log = lambda text: console.print(text, markup=False)
        stages = run_shard(config, shard, from_stage=from_stage, only=only, force=force, log=log)
        for line in merge_hint(config, shard, stages, config_path):
            log(line)
        return
    if dry_run:
        rows = plan(config, from_stage=from_stage, only=only, shard=shard)
        for stage, line in rows:
            click.echo(f"{stage:9s} {line}")
        if shard is not None:  # the shard's stages are the plan's rows
            from deliberate.pipeline.shard import merge_hint

            stages = [stage for stage, _ in rows if stage != "note"]
            for line in merge_hint(config, shard, stages, config_path, done=False):
                click.echo(line)
        return
    run_pipeline(config, from_stage=from_stage, only=only, force=force,
                 log=lambda text: console.print(text, markup=False))
    console.print(f"done: {config.run_dir}", markup=False)


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path), default=Path("."))
@click.option("--overwrite", is_flag=True, help="Replace existing files.")
def init(directory: Path, overwrite: bool) -> None:
    """Write a starter pipeline config and a copy of the default spec to edit."""
    from deliberate.pipeline.init import write_starter

    for path in write_starter(directory, overwrite=overwrite):
        click.echo(f"wrote {path}")
