"""``deliberate merge``: shard outputs into one file, sorted by record id (see
:mod:`deliberate.records.merge`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("merge")
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("inputs", nargs=-1, required=True, metavar="FILE...")
def merge(out: Path, inputs: tuple[str, ...]) -> None:
    """Merge stage outputs (e.g. the shards of `--shard K/N` runs) into OUT, sorted by id.

    FILE may be a glob (quoted). The failure sidecars (X.failures.jsonl) are merged into
    OUT.failures.jsonl and the usage sidecars summed; the order depends only on the records,
    so merging the shards of a run gives the same file as merging the unsharded output.
    """
    from rich.console import Console

    from deliberate.cli.streaming import expand_inputs
    from deliberate.records.claim import claim_output
    from deliberate.records.merge import merge_stage_outputs

    paths = expand_inputs(inputs, "FILE")
    with claim_output(out, paths):
        records, failures = merge_stage_outputs(out, paths)
    Console(stderr=True, highlight=False).print(
        f"merge: {len(paths)} files -> {records} records in {out}"
        + (f", {failures} failures" if failures else ""), markup=False)
