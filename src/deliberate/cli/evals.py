"""``deliberate eval`` and ``deliberate grade refusal``."""

from __future__ import annotations

from pathlib import Path

import typer

from deliberate.cli.common import model_command
from deliberate.evals.jailbreaks.catalog import DEFAULT_JAILBREAKS
from deliberate.llm.options import BackendOptions

grade_app = typer.Typer(help="Grade existing responses without running a model.", no_args_is_help=True)


@model_command
def eval_command(
    model: str = typer.Option(..., "--model", "-m", help="Model ref to evaluate."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory."),
    suite: str = typer.Option("strongreject,xstest,spec", "--suite", help="Comma list of suites."),
    spec_path: str = typer.Option("default", "--spec", "-s", help="Spec YAML file or 'default'."),
    spec_in_context: bool = typer.Option(False, "--spec-in-context", help="Whole spec as system prompt."),
    grader: str | None = typer.Option(None, "--grader", help="LLM grader (rubric, refusal, spec judge)."),
    refusal_method: str = typer.Option("auto", "--refusal-method", help="auto | rules | embedding | lm."),
    judge_k: int = typer.Option(1, "--judge-k", min=1, help="Spec-judge samples per answer."),
    samples: int = typer.Option(1, "--samples", "-k", min=1, help="Samples per prompt."),
    temperature: float = typer.Option(0.0, "--temperature", help="Sampling temperature."),
    max_tokens: int = typer.Option(1024, "--max-tokens", help="Most new tokens per reply."),
    jailbreaks: str = typer.Option(DEFAULT_JAILBREAKS, "--jailbreaks",
                                  help="'official', 'all', 'bon:N', or a comma list."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Seeded subsample of prompts per suite."),
    strongreject_data: str | None = typer.Option(None, "--strongreject-data", help="Local StrongREJECT CSV."),
    xstest_data: str | None = typer.Option(None, "--xstest-data", help="Local XSTest prompts CSV."),
    spec_prompts: str | None = typer.Option(None, "--spec-prompts", help="Spec-suite prompt file."),
    label: str | None = typer.Option(None, "--label", help="Display name in reports."),
    *,
    options: BackendOptions,
) -> None:
    """Evaluate a model: StrongREJECT + jailbreaks, XSTest over-refusal, spec adherence."""
    from deliberate.evals.runner import EvalConfig, run_eval
    from deliberate.llm import GenerateConfig

    config = EvalConfig(
        model=model, out=out, suites=[s.strip() for s in suite.split(",") if s.strip()],
        spec=spec_path, spec_in_context=spec_in_context, grader=grader, refusal_method=refusal_method,
        judge_k=judge_k, samples=samples, sampling=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        jailbreaks=jailbreaks, limit=limit, strongreject_data=strongreject_data,
        xstest_data=xstest_data, spec_prompts=spec_prompts, label=label,
    )
    print_metrics(run_eval(config, options), out)


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


@model_command
def grade_refusal(
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV / JSONL / Parquet of responses."),
    out: Path = typer.Option(..., "--out", "-o", help="labels.jsonl: {id, label} per row."),
    prompt_col: str = typer.Option("prompt", "--prompt-col", help="Column with the prompt."),
    response_col: str = typer.Option("completion", "--response-col", help="Column with the response."),
    id_col: str | None = typer.Option("id", "--id-col", help="Column with a stable id."),
    grader: str | None = typer.Option(None, "--grader", help="Use this LLM instead of the no-API grader."),
    method: str = typer.Option("auto", "--method", help="No-API grader: auto | rules | embedding | lm."),
    *,
    options: BackendOptions,
) -> None:
    """Label responses as compliance / refusal / partial_refusal."""
    from deliberate.evals.grade_file import grade_refusal_file

    counts = grade_refusal_file(input_path, out, prompt_col=prompt_col, response_col=response_col,
                                id_col=id_col, grader=grader, method=method, options=options)
    typer.echo(f"wrote {sum(counts.values())} labels to {out}: "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), err=True)


grade_app.command("refusal")(grade_refusal)
