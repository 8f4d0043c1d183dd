"""``deliberate sample``: a module of its own, so that it starts without the other stages'
imports (its first request leaves sooner)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deliberate.cli import common
from deliberate.cli.options import GroupedCommand
from deliberate.generate.sample import SampleConfig

PATH = click.Path(path_type=Path)


@click.command("sample", cls=GroupedCommand)
@click.option("--model", "-m", required=True, help="Model ref: openai/..., hf/..., vllm/...")
@click.option("--prompts", "-p", type=PATH, required=True, help="Prompt file (JSONL/CSV/Parquet).")
@common.stage_options(SampleConfig, "Output JSONL of responses.", inputs=["prompts"], spec=False)
def sample(model: str, prompts: Path, out: Path, config_file: Path | None, **kwargs: Any) -> None:
    """Sample responses from a model (cached, concurrent, resumable)."""
    from deliberate.generate.sample import run_sample
    from deliberate.records import load_prompts

    config, options = common.stage_setup(kwargs, config_file, SampleConfig)
    common.finish_stage("sample", out, run_sample(config, load_prompts(prompts), model=model,
                                                  options=options),
                        max_failure_rate=kwargs.get("max_failure_rate"))
