"""Flags every model-calling command shares, ``--config`` files, and stage-end reporting.

The backend flags are :class:`~deliberate.llm.options.BackendOptions`' fields, made into options
by :mod:`deliberate.cli.options`, so the CLI, the pipeline's ``backend:`` section and Python
callers use one set of names and defaults.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from deliberate.cli.options import build, config_options, take
from deliberate.llm.options import BackendOptions

BACKEND = "backend_"

backend_options = config_options(BackendOptions, prefix=BACKEND, group="Backend options")
"""Decorator: the backend flags (``--base-url``, ``--concurrency``, ``--cache`` ...)."""

spec_option = click.option("--spec", "-s", "spec_path", default="default", show_default=True,
                           help="Spec YAML file, or 'default' for the shipped spec.")
config_file_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path), default=None,
    help="YAML file with this command's settings (same names as the flags, without dashes; "
         "a `backend:` mapping for the backend flags). Flags win.")


def out_option(help_text: str) -> Callable[..., Any]:
    return click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
                        help=help_text)


def stage_options(config_type: type[BaseModel], out_help: str, *, inputs: Sequence[str] = (),
                  spec: bool = True, models: bool = True, out_folder: bool = False,
                  batch: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options every stage command has: ``--out``, ``--spec``, ``--config``, the stage
    config's fields and (for commands that call models) the backend flags. The command runs
    holding a claim on ``--out`` (see :func:`deliberate.records.claim.claim_output`): it may not
    be one of the ``inputs`` (parameter names), a folder, or written by another process.
    ``batch``: also the ``--batch*`` flags (:mod:`deliberate.cli.batch`)."""
    from deliberate.cli.batch import batch_options

    decorators = [out_option(out_help), *([spec_option] if spec else []), config_file_option,
                  config_options(config_type),
                  *([max_failure_rate_option, backend_options] if models else []),
                  *([batch_options] if batch else [])]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def claimed(**kwargs: Any) -> Any:
            from deliberate.records.claim import claim_output

            given = [kwargs.get(name) for name in inputs]  # a repeatable option gives a tuple
            paths = [p for g in given for p in (g if isinstance(g, tuple) else [g])]
            with claim_output(kwargs["out"], paths, folder=out_folder):
                return func(**kwargs)

        for decorator in reversed(decorators):
            claimed = decorator(claimed)
        return claimed

    return decorate


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The mapping in a ``--config`` YAML file (empty without one)."""
    if path is None:
        return {}
    from deliberate.errors import InputFileError
    from deliberate.spec.load import read_yaml_file

    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise InputFileError(path, "not a YAML mapping of settings")
    return data


def settings(kwargs: dict[str, Any], model: type[BaseModel], file_values: dict[str, Any]) -> Any:
    """The stage's config: ``--config`` values overlaid by the flags the user set."""
    stage_values = {k: v for k, v in file_values.items() if k != "backend"}
    return build(model, take(kwargs, model), stage_values)


def backend(kwargs: dict[str, Any], file_values: dict[str, Any]) -> BackendOptions:
    """The backend options from ``--config``'s ``backend:`` mapping and the backend flags."""
    return build(BackendOptions, take(kwargs, BackendOptions, prefix=BACKEND),
                 file_values.get("backend") or {})


def stage_setup(kwargs: dict[str, Any], config_file: Path | None,
                config_type: type[BaseModel]) -> tuple[Any, BackendOptions]:
    """A model-calling command's config and backend options, from ``--config`` and its flags."""
    file_values = read_config_file(config_file)
    return settings(kwargs, config_type, file_values), backend(kwargs, file_values)


def load_spec_option(path: str) -> Any:
    from deliberate.spec import load_spec

    return load_spec(path)


max_failure_rate_option = click.option(
    "--max-failure-rate", type=click.FloatRange(0.0, 1.0), default=None,
    help="Exit with code 3 when more than this share of the items failed (outputs are still "
         "written).  [default: 0.1]")


def finish_stage(name: str, out: Path, result: Any, extra_lines: Sequence[str] = (),
                 max_failure_rate: float | None = None, total: int | None = None) -> None:
    """Write a stage's records, failures and usage, then :func:`report_stage`.

    ``total``: the number of items, when failed items also have a record (the judge writes an
    unscored record for each, so the filter can count them).
    """
    from deliberate.records.stage_output import write_stage_output

    write_stage_output(out, result.records, result.failures, result.usage)
    report_stage(name, out, len(result.records), len(result.failures), result.usage, extra_lines,
                 max_failure_rate, total)


def report_stage(name: str, out: Path, records: int, failed: int, usage: Any,
                 extra_lines: Sequence[str] = (), max_failure_rate: float | None = None,
                 total: int | None = None) -> None:
    """Print a finished stage's summary on stderr; exit 3 (:class:`StageFailed`) when more than
    ``max_failure_rate`` of its items failed (``total``: the items, when failed ones also have
    a record)."""
    from rich.console import Console

    from deliberate.records.stage_output import (
        DEFAULT_MAX_FAILURE_RATE,
        check_failure_rate,
        sidecar,
    )

    console = Console(stderr=True, highlight=False)
    console.print(f"[bold]{name}[/bold]: wrote {records} records to {out}" + (
        f", [red]{failed} failed[/red] (see {out.stem}.failures.jsonl)" if failed else ""),
        markup=True)
    for line in [*extra_lines, *usage.summary_lines()]:
        console.print(f"  {line}", markup=False)
    rate = DEFAULT_MAX_FAILURE_RATE if max_failure_rate is None else max_failure_rate
    total = records + failed if total is None else total
    check_failure_rate(name, total, failed, rate, sidecar(out, "failures"))