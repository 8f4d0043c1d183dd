"""``deliberate eval`` and ``deliberate grade refusal``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deliberate.cli import common
from deliberate.cli.options import GroupedCommand
from deliberate.evals.config import EvalConfig
from deliberate.evals.refusal import METHODS

PATH = click.Path(path_type=Path)


@click.command("eval", cls=GroupedCommand)
@click.option("--model", "-m", required=True, help="Model ref to evaluate.")
@common.stage_options(EvalConfig, "Run directory.", out_folder=True)
def eval_command(model: str, out: Path, spec_path: str, config_file: Path | None, **kwargs: Any) -> None:
    """Evaluate a model: StrongREJECT + jailbreaks, XSTest over-refusal, spec adherence."""
    import json

    from deliberate.errors import StageFailed
    from deliberate.evals.runner import run_eval

    config, options = common.stage_setup(kwargs, config_file, EvalConfig)
    try:
        metrics = run_eval(config, model=model, out=out, spec=common.load_spec_option(spec_path),
                           options=options, max_failure_rate=kwargs.get("max_failure_rate"))
    except StageFailed:
        print_metrics(json.loads((out / "metrics.json").read_text(encoding="utf-8")), out)
        raise
    print_metrics(metrics, out)


def print_metrics(metrics: dict[str, dict], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"deliberate eval -> {out}")
    for column in ("suite", "metric", "value"):
        table.add_column(column)
    for suite, values in metrics.items():
        for name, value in values.items():
            if isinstance(value, dict):
                continue
            shown = "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
            table.add_row(suite, name, shown)
    Console().print(table)


@click.group("grade", no_args_is_help=True)
def grade_group() -> None:
    """Grade existing responses without running a model."""


@grade_group.command("refusal", cls=GroupedCommand)
@click.option("--input", "-i", "input_path", type=PATH, required=True,
              help="CSV / JSONL / Parquet of responses.")
@common.out_option("labels.jsonl: {id, label} per row.")
@click.option("--prompt-col", default="prompt", show_default=True, help="Column with the prompt.")
@click.option("--response-col", default="completion", show_default=True, help="Column with the response.")
@click.option("--id-col", default="id", show_default=True, help="Column with a stable id.")
@click.option("--grader", default=None, help="Use this LLM instead of the no-API grader.")
@click.option("--refusal-method", type=click.Choice(list(METHODS)),
              default="auto", show_default=True, help="No-API grader mode.")
@common.backend_options
def grade_refusal(input_path: Path, out: Path, prompt_col: str, response_col: str, id_col: str,
                  grader: str | None, refusal_method: str, **kwargs: Any) -> None:
    """Label responses as compliance / refusal / partial_refusal."""
    from deliberate.evals.grade_file import grade_refusal_file

    counts = grade_refusal_file(input_path, out, prompt_col=prompt_col, response_col=response_col,
                                id_col=id_col, grader=grader, method=refusal_method,
                                options=common.backend(kwargs, {}))
    click.echo(f"wrote {sum(counts.values())} labels to {out}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), err=True)


@click.group("jailbreak", no_args_is_help=True)
def jailbreak_group() -> None:
    """See the StrongREJECT jailbreaks a model is evaluated under."""


@jailbreak_group.command("apply")
@click.option("--names", required=True,
              help="Jailbreaks: 'official', 'all', 'bon:N', or a comma list of names.")
@click.option("--input", "-i", "input_path", type=PATH, required=True,
              help="CSV / JSONL of forbidden prompts.")
@click.option("--prompt-col", default="forbidden_prompt", show_default=True,
              help="Column with the prompt.")
@click.option("--strongreject-assets", type=PATH, default=None,
              help="Folder with the official StrongREJECT files.")
@common.out_option("JSONL: one {forbidden_prompt, jailbreak, jailbroken_prompt} per prompt and jailbreak.")
def jailbreak_apply(names: str, input_path: Path, prompt_col: str, strongreject_assets: Path | None,
                    out: Path) -> None:
    """Write every prompt of INPUT under every named jailbreak."""
    from deliberate.evals.jailbreaks import apply_to_file, select_jailbreaks

    selection = select_jailbreaks(names, assets_dir=strongreject_assets)
    count = apply_to_file(selection.names, input_path, out, prompt_col=prompt_col,
                          assets_dir=strongreject_assets)
    click.echo(f"wrote {count} jailbroken prompts to {out} ({selection.label})", err=True)
