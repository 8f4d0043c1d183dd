"""The data stages ``label``, ``generate``, ``judge`` and ``filter`` (``sample``: :mod:`.sample`);
and ``judge-validate``, the judge's agreement with labelled verdicts.

Each command reads its inputs, builds the stage's config from its flags (and ``--config``), and
calls the stage's ``run_<stage>`` function; nothing here decides anything about the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deliberate.cli import common
from deliberate.cli.batch import run_stage as batched
from deliberate.cli.options import GroupedCommand, config_options
from deliberate.generate.cot import GenerateConfig
from deliberate.generate.label import LabelConfig
from deliberate.judge.filter import FilterConfig
from deliberate.judge.judge import JudgeConfig
from deliberate.judge.validate import ValidateConfig

PATH = click.Path(path_type=Path)


@click.command("label", cls=GroupedCommand)
@click.option("--prompts", "-p", type=PATH, required=True, help="Prompt file (JSONL/CSV/Parquet).")
@click.option("--labeler", "-m", required=True, help="Labeler model ref.")
@click.option("--prompt-col", default="prompt", show_default=True, help="Column with the prompt text.")
@common.stage_options(LabelConfig, "Labelled prompts (JSONL).", inputs=["prompts"], batch=True)
def label(prompts: Path, labeler: str, out: Path, prompt_col: str, spec_path: str,
          config_file: Path | None, **kwargs: Any) -> None:
    """Assign spec categories to prompts with an LLM."""
    from deliberate.generate.label import run_label
    from deliberate.records import ColumnMap, load_prompts

    config, options = common.stage_setup(kwargs, config_file, LabelConfig)
    spec = common.load_spec_option(spec_path)
    records = load_prompts(prompts, categories=spec.category_ids, columns=ColumnMap(prompt=prompt_col))
    result = batched("label", kwargs, labeler, options, out, lambda model: run_label(
        config, records, spec=spec, labeler=model, options=options))
    if result is not None:  # None: exported for a batch runner
        common.finish_stage("label", out, result, max_failure_rate=kwargs.get("max_failure_rate"))


@click.command("generate", cls=GroupedCommand)
@click.option("--prompts", "-p", type=PATH, required=True, help="Labelled prompts (JSONL).")
@click.option("--teacher", "-m", required=True, help="Teacher model ref.")
@common.stage_options(GenerateConfig, "Generations (JSONL).", inputs=["prompts"], batch=True)
def generate(prompts: Path, teacher: str, out: Path, spec_path: str, config_file: Path | None,
             **kwargs: Any) -> None:
    """Teacher writes spec-citing chains of thought and answers, several samples per prompt."""
    from deliberate.generate.cot import run_generate
    from deliberate.records import load_prompts

    config, options = common.stage_setup(kwargs, config_file, GenerateConfig)
    spec = common.load_spec_option(spec_path)
    records = load_prompts(prompts, categories=spec.category_ids)
    result = batched("generate", kwargs, teacher, options, out, lambda model: run_generate(
        config, records, spec=spec, teacher=model, options=options))
    if result is None:
        return
    checks = [r.checks for r in result.records]
    summary = (f"citation check failed: {sum(not c.citation.valid for c in checks)}; "
               f"spec leaks: {sum(c.leak.leaked for c in checks)}; mode declared: "
               f"{sum(r.declared_mode is not None for r in result.records)}/{len(result.records)}")
    common.finish_stage("generate", out, result, [summary],
                        max_failure_rate=kwargs.get("max_failure_rate"))


@click.command("judge", cls=GroupedCommand)
@click.option("--generations", "-g", type=PATH, required=True, help="Generations (JSONL).")
@click.option("--judge", "-m", "judge_model", required=True, help="Judge model ref.")
@common.stage_options(JudgeConfig, "Judged generations (JSONL).", inputs=["generations"],
                      batch=True)
def judge(generations: Path, judge_model: str, out: Path, spec_path: str, config_file: Path | None,
          **kwargs: Any) -> None:
    """Spec-aware judge scores each generation judge_k times; the score is the minimum."""
    from deliberate.judge.judge import run_judge
    from deliberate.records import read_jsonl
    from deliberate.records.generation import GenerationRecord

    config, options = common.stage_setup(kwargs, config_file, JudgeConfig)
    spec, records = common.load_spec_option(spec_path), read_jsonl(generations, GenerationRecord)
    result = batched("judge", kwargs, judge_model, options, out, lambda model: run_judge(
        config, records, spec=spec, judge=model, options=options))
    if result is None:
        return
    incomplete = sum(r.score is None for r in result.records)
    common.finish_stage("judge", out, result, [f"samples without a complete judgment: {incomplete}"],
                        max_failure_rate=kwargs.get("max_failure_rate"), total=len(result.records))


@click.command("judge-validate", cls=GroupedCommand)
@click.option("--golden", default="default", show_default=True,
              help="Golden verdicts (JSONL), or 'default' for the shipped file (default spec).")
@click.option("--judge", "-m", "judge_model", required=True, help="Judge model ref.")
@click.option("--out", "-o", type=PATH, default=None, help="Also write the report here (JSON).")
@common.spec_option
@common.config_file_option
@config_options(ValidateConfig)
@common.backend_options
def judge_validate(golden: str, judge_model: str, out: Path | None, spec_path: str,
                   config_file: Path | None, **kwargs: Any) -> None:
    """How far the spec judge agrees with labelled verdicts: mode accuracy, score MAE, n."""
    from deliberate.judge.validate import load_golden, validate_judge
    from deliberate.records.jsonl import write_lines_atomic

    config, options = common.stage_setup(kwargs, config_file, ValidateConfig)
    report = validate_judge(load_golden(golden), common.load_spec_option(spec_path), judge_model,
                            options, config)
    click.echo(f"judge-validate: {judge_model} on {golden}")
    for line in report.lines():
        click.echo(f"  {line}")
    if out is not None:
        write_lines_atomic(out, [report.model_dump_json(indent=2) + "\n"])


@click.command("filter", cls=GroupedCommand)
@click.option("--judged", "-j", type=PATH, required=True, help="Judged generations (JSONL).")
@click.option("--push-to-hub", default=None, help="Also push the dataset to this HF repo.")
@common.stage_options(FilterConfig, "SFT dataset (JSONL, chat messages).", inputs=["judged"],
                      spec=False, models=False)
def filter_command(judged: Path, out: Path, push_to_hub: str | None, config_file: Path | None,
                   **kwargs: Any) -> None:
    """Keep high-scoring, well-formed samples and export them as an SFT chat dataset."""
    from rich.console import Console

    from deliberate.judge.filter import run_filter
    from deliberate.records import read_jsonl, write_jsonl
    from deliberate.records.generation import JudgedRecord

    config = common.settings(kwargs, FilterConfig, common.read_config_file(config_file))
    examples, summary = run_filter(config, read_jsonl(judged, JudgedRecord))
    write_jsonl(out, examples)
    console = Console(stderr=True, highlight=False)
    console.print(f"filter: kept {len(examples)} examples -> {out}", markup=False)
    for line in summary.lines():
        console.print(f"  {line}", markup=False)
    if push_to_hub:
        from datasets import Dataset

        Dataset.from_list([e.model_dump() for e in examples]).push_to_hub(push_to_hub)
