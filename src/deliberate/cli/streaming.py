"""What the streaming data stages share on the command line: ``--shard``, ``--chunk-size``,
several input files (or globs), lazy input readers and the end-of-stage summary.

The stages themselves stream through :mod:`deliberate.records.chunked`; this module only turns
flags into the lazy inputs those functions take, and their totals into the summary and the exit
code (3 when more than ``--max-failure-rate`` of the items failed).
"""

from __future__ import annotations

import glob
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from deliberate.records.chunked import DEFAULT_CHUNK
from deliberate.records.shards import Shard

T = TypeVar("T")
SIDECARS = (".failures.jsonl", ".chunks.jsonl", ".partial", ".usage.json", ".progress.json")


class ShardParam(click.ParamType):
    """``K/N``: shard K (1-based) of N."""

    name = "K/N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


shard_option = click.option(
    "--shard", type=ShardParam(), default=None,
    help="Run only shard K of N (1-based): the prompts whose id hashes to it (a stable partition; "
         "all samples of a prompt share its shard). Merge the shards' outputs with "
         "`deliberate merge`, or pass them all to the next stage.")


def stream_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--shard`` and ``--chunk-size``."""
    chunk = click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK,
                         show_default=True, help="Inputs read, run and written at a time "
                         "(memory holds one chunk; a killed run resumes after the last one).")
    return shard_option(chunk(func))


def expand_inputs(patterns: Iterable[str | Path], flag: str) -> list[Path]:
    """Input paths, each given as a file or a glob (``'gen.shard-*-of-4.jsonl'``, quoted so
    the shell leaves it alone); a glob skips stage sidecar files. One line naming the flag when
    a glob matches nothing."""
    paths: list[Path] = []
    for pattern in map(str, patterns):
        if Path(pattern).exists() or not glob.has_magic(pattern):
            paths.append(Path(pattern))
            continue
        matched = sorted(p for p in glob.glob(pattern) if not p.endswith(SIDECARS))
        if not matched:
            raise click.BadParameter(f"no file matches '{pattern}'", param_hint=f"'{flag}'")
        paths += map(Path, matched)
    return list(dict.fromkeys(paths))


def non_empty(items: Iterable[T], what: str, where: Sequence[Path], shard: Shard | None) -> Iterator[T]:
    """``items``, after checking there is at least one (a shard may be empty; a source may not)."""
    from deliberate.errors import InputFileError

    source = iter(items)
    first = next(source, _NONE)
    if first is _NONE:
        if shard is None:
            raise InputFileError(", ".join(map(str, where)), f"no {what} found (empty source)")
        return iter(())
    return itertools.chain([first], source)


_NONE: Any = object()


def prompt_stream(paths: Sequence[Path], *, categories: Any, shard: Shard | None,
                  columns: Any = None) -> Iterator[Any]:
    """The prompts of every file in ``paths``, lazily, only ``shard``'s when given."""
    from deliberate.records.seen import SeenIds
    from deliberate.records.sources import iter_prompts

    keep, seen = (shard.contains if shard else None), SeenIds()  # ids unique across files
    prompts = itertools.chain.from_iterable(
        iter_prompts(path, columns=columns, categories=categories, keep=keep, seen=seen)
        for path in paths)
    return non_empty(prompts, "prompts", paths, shard)


def record_stream(paths: Sequence[Path], model: type[T], *, shard: Shard | None,
                  prompt_id: Callable[[T], str]) -> Iterator[T]:
    """The records of every JSONL file in ``paths``, lazily, only ``shard``'s when given."""
    from deliberate.records.jsonl import iter_records

    records = (record for path in paths for _, record in iter_records(path, model))
    if shard:
        records = (r for r in records if shard.contains(prompt_id(r)))
    return non_empty(records, "records", paths, shard)


def finish(name: str, out: Path, totals: Any, extra_lines: Sequence[str] = (),
           max_failure_rate: float | None = None, total: int | None = None) -> None:
    """:func:`~deliberate.cli.common.report_stage` for a streamed stage's totals (its files
    are already written)."""
    from deliberate.cli.common import report_stage

    report_stage(name, out, totals.records, totals.failures, totals.usage, extra_lines,
                 max_failure_rate, total)