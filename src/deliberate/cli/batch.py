"""``--batch``, ``--batch-export`` and ``--batch-import`` for the model-calling data stages.

The stage commands hand :func:`run_streamed` a function that runs the stage with a given model;
without batch flags it is simply called with the model ref. With them it is run in batch
rounds (:mod:`deliberate.llm.batchrounds`): the stage bodies never know. Here is only what is
about the command line: the flags, the one-line usage errors (exit 2), the default state
folder next to ``--out`` and the message after an export saying what to run next.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from deliberate.cli.options import build, config_options, take
from deliberate.errors import DeliberateError
from deliberate.llm.batchoptions import BatchOptions
from deliberate.llm.options import BackendOptions

batch_options = config_options(BatchOptions, group="Batch options")
"""Decorator: the ``--batch*`` flags."""


def default_dir(out: Path) -> Path:
    """``runs/gen.jsonl`` -> ``runs/gen.jsonl.batch``: one folder of batch state per output."""
    return out.with_name(f"{out.name}.batch")


def run_streamed(name: str, kwargs: dict[str, Any], model: str, options: BackendOptions,
                 out: Path, stage: Callable[[Any, Path], Any]) -> Any:
    """``stage(model, out)`` (a stage that writes ``out`` as it goes, returning its
    :class:`~deliberate.records.chunked.StreamTotals`), through batch rounds when a ``--batch*``
    flag is set; None after an export (the command then ends with exit 0: the message says
    what to run next)."""
    plan = build(BatchOptions, take(kwargs, BatchOptions))
    if not plan.active:
        return stage(model, out)
    if plan.batch and plan.batch_export is not None:
        raise DeliberateError("--batch-export: writes the requests for another batch runner; "
                              "it does not go with --batch")
    if not options.use_cache:
        raise DeliberateError(f"{plan.flag()}: needs the response cache (the batch's answers "
                              "reach the stage through it); drop --no-cache")
    from deliberate.llm.batchrounds import run_writing_in_batches
    from deliberate.records.chunked import with_usage

    outcome = run_writing_in_batches(stage, out, model, options, plan,
                                     folder=plan.batch_dir or default_dir(out), description=name,
                                     notify=_say if options.progress else None)
    if outcome.exported is not None:
        _exported(name, outcome.exported, plan, model)
        return None
    totals = outcome.result
    return with_usage(out, totals, outcome.stage_usage(totals.usage, result_ref(totals, model)))


def _say(line: str) -> None:
    import click

    click.echo(line, err=True)


def result_ref(result: Any, model: str) -> str:
    """The ref the stage's usage is reported under (the model's)."""
    return model if model in result.usage.models else next(iter(result.usage.models), model)


def _exported(name: str, export: Any, plan: BatchOptions, model: str) -> None:
    """Say what was written and the commands to run next (plain lines: never wrapped, so
    they can be copied)."""
    import click

    files = ", ".join(str(p) for p in export.parts)
    click.echo(f"{name}: wrote {export.requests} requests to {files} for a batch runner "
               "(those the cache cannot answer); nothing else written", err=True)
    served = model.partition("/")[2]
    outputs = [part.with_name(f"{part.stem}.out{part.suffix}") for part in export.parts]
    for part, output in zip(export.parts, outputs):
        click.echo(f"  next: vllm run-batch -i {part} -o {output} --model {served}", err=True)
    imports = " ".join(f"--batch-import {output}" for output in outputs)
    click.echo(f"  then: this command with {imports} in place of --batch-export "
               f"{plan.batch_export} (or all of it through the Batch API: --batch)", err=True)
