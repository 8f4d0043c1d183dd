"""The data stages ``label``, ``generate``, ``judge`` and ``filter`` (``sample``: :mod:`.sample`);
and ``judge-validate``, the judge's agreement with labelled verdicts.

Each command reads its inputs, builds the stage's config from its flags (and ``--config``), and
calls the stage's function; nothing here decides anything about the data. The model-calling
stages stream (``stream_<stage>``: inputs read lazily, records written chunk by chunk,
resumable, ``--shard K/N``); ``filter`` reads lazily and keeps only the samples that pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deliberate.cli import common, streaming
from deliberate.cli.batch import run_streamed
from deliberate.cli.options import GroupedCommand, config_options
from deliberate.generate.cot import GenerateConfig
from deliberate.generate.label import LabelConfig
from deliberate.judge.filter import FilterConfig
from deliberate.judge.judge import JudgeConfig
from deliberate.judge.validate import ValidateConfig
from deliberate.records.shards import Shard

PATH = click.Path(path_type=Path)


@click.command("label", cls=GroupedCommand)
@click.option("--prompts", "-p", multiple=True, required=True,
              help="Prompt file (JSONL/CSV/Parquet) or glob; repeat for several.")
@click.option("--labeler", "-m", required=True, help="Labeler model ref.")
@click.option("--prompt-col", default="prompt", show_default=True, help="Column with the prompt text.")
@common.stage_options(LabelConfig, "Labelled prompts (JSONL).", inputs=["prompts"], batch=True)
@streaming.stream_options
def label(prompts: tuple[str, ...], labeler: str, out: Path, prompt_col: str, spec_path: str,
          config_file: Path | None, shard: Shard | None, chunk_size: int, **kwargs: Any) -> None:
    """Assign spec categories to prompts with an LLM."""
    from deliberate.generate.label import stream_label
    from deliberate.records import ColumnMap

    config, options = common.stage_setup(kwargs, config_file, LabelConfig)
    spec = common.load_spec_option(spec_path)
    paths = streaming.expand_inputs(prompts, "--prompts")

    def run(model: Any, target: Path) -> Any:  # read afresh for each batch round
        records = streaming.prompt_stream(paths, categories=spec.category_ids, shard=shard,
                                          columns=ColumnMap(prompt=prompt_col))
        return stream_label(config, records, target, spec=spec, labeler=model, options=options,
                            chunk_size=chunk_size)

    totals = run_streamed("label", kwargs, labeler, options, out, run)
    if totals is not None:  # None: exported for a batch runner
        streaming.finish("label", out, totals, max_failure_rate=kwargs.get("max_failure_rate"))


@click.command("generate", cls=GroupedCommand)
@click.option("--prompts", "-p", multiple=True, required=True,
              help="Labelled prompts (JSONL) or glob; repeat for several (e.g. shard files).")
@click.option("--teacher", "-m", required=True, help="Teacher model ref.")
@common.stage_options(GenerateConfig, "Generations (JSONL).", inputs=["prompts"], batch=True)
@streaming.stream_options
def generate(prompts: tuple[str, ...], teacher: str, out: Path, spec_path: str,
             config_file: Path | None, shard: Shard | None, chunk_size: int, **kwargs: Any) -> None:
    """Teacher writes spec-citing chains of thought and answers, several samples per prompt."""
    from deliberate.generate.cot import stream_generate

    config, options = common.stage_setup(kwargs, config_file, GenerateConfig)
    spec = common.load_spec_option(spec_path)
    paths = streaming.expand_inputs(prompts, "--prompts")

    def run(model: Any, target: Path) -> Any:
        records = streaming.prompt_stream(paths, categories=spec.category_ids, shard=shard)
        return stream_generate(config, records, target, spec=spec, teacher=model, options=options,
                               chunk_size=chunk_size)

    totals = run_streamed("generate", kwargs, teacher, options, out, run)
    if totals is None:
        return
    tally = totals.tallies
    summary = (f"citation check failed: {tally.get('citation_invalid', 0)}; "
               f"spec leaks: {tally.get('spec_leak', 0)}; mode declared: "
               f"{tally.get('mode_declared', 0)}/{totals.records}")
    streaming.finish("generate", out, totals, [summary],
                     max_failure_rate=kwargs.get("max_failure_rate"))


@click.command("judge", cls=GroupedCommand)
@click.option("--generations", "-g", multiple=True, required=True,
              help="Generations (JSONL) or glob; repeat for several (e.g. shard files).")
@click.option("--judge", "-m", "judge_model", required=True, help="Judge model ref.")
@common.stage_options(JudgeConfig, "Judged generations (JSONL).", inputs=["generations"],
                      batch=True)
@streaming.stream_options
def judge(generations: tuple[str, ...], judge_model: str, out: Path, spec_path: str,
          config_file: Path | None, shard: Shard | None, chunk_size: int, **kwargs: Any) -> None:
    """Spec-aware judge scores each generation judge_k times; the score is the minimum."""
    from deliberate.judge.judge import stream_judge
    from deliberate.records.generation import GenerationRecord

    config, options = common.stage_setup(kwargs, config_file, JudgeConfig)
    paths, spec = streaming.expand_inputs(generations, "--generations"), common.load_spec_option(spec_path)

    def run(model: Any, target: Path) -> Any:
        records = streaming.record_stream(paths, GenerationRecord, shard=shard,
                                          prompt_id=lambda g: g.prompt_id)
        return stream_judge(config, records, target, spec=spec, judge=model, options=options,
                            chunk_size=chunk_size)

    totals = run_streamed("judge", kwargs, judge_model, options, out, run)
    if totals is None:
        return
    incomplete = totals.tallies.get("unscored", 0)
    streaming.finish("judge", out, totals, [f"samples without a complete judgment: {incomplete}"],
                     max_failure_rate=kwargs.get("max_failure_rate"), total=totals.records)


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
    unscored = [item for item in report.items if item.score is None]
    if unscored:  # agreement over a few judged items is no measurement: exit 3, as a stage does
        from deliberate.records.stage_output import DEFAULT_MAX_FAILURE_RATE, check_failure_rate

        first = unscored[0]
        check_failure_rate("judge-validate", report.n, len(unscored), DEFAULT_MAX_FAILURE_RATE,
                           f"item {first.id}: {'; '.join(first.errors) or 'no complete judgment'}")


@click.command("filter", cls=GroupedCommand)
@click.option("--judged", "-j", multiple=True, required=True,
              help="Judged generations (JSONL) or glob; repeat for several (e.g. shard files).")
@click.option("--push-to-hub", default=None, help="Also push the dataset to this HF repo.")
@common.stage_options(FilterConfig, "SFT dataset (JSONL, chat messages).", inputs=["judged"],
                      spec=False, models=False)
def filter_command(judged: tuple[str, ...], out: Path, push_to_hub: str | None, config_file: Path | None,
                   **kwargs: Any) -> None:
    """Keep high-scoring, well-formed samples and export them as an SFT chat dataset."""
    from rich.console import Console

    from deliberate.judge.filter import run_filter
    from deliberate.records import write_jsonl
    from deliberate.records.generation import JudgedRecord

    config = common.settings(kwargs, FilterConfig, common.read_config_file(config_file))
    records = streaming.record_stream(streaming.expand_inputs(judged, "--judged"), JudgedRecord,
                                      shard=None, prompt_id=lambda r: r.generation.prompt_id)
    examples, summary = run_filter(config, records)
    write_jsonl(out, examples)
    console = Console(stderr=True, highlight=False)
    console.print(f"filter: kept {len(examples)} examples -> {out}", markup=False)
    for line in summary.lines():
        console.print(f"  {line}", markup=False)
    if push_to_hub:
        from datasets import Dataset

        Dataset.from_list([e.model_dump() for e in examples]).push_to_hub(push_to_hub)
