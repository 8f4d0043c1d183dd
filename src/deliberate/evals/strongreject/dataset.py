"""Loading the 313 StrongREJECT forbidden prompts from the public CSV, HF, or a local path."""

from __future__ import annotations

from pathlib import Path

from deliberate.evals.public_data import STRONGREJECT_DATA, DataSource, resolve
from deliberate.records.prompt import PromptRecord
from deliberate.records.sources import ColumnMap, load_prompts, subsample

PUBLIC_CSV = STRONGREJECT_DATA.url
"""The published dataset (sha256-pinned); pass a local copy (``--strongreject-data PATH``) to
run offline."""


def strongreject_source(source: str | Path | None = None) -> DataSource:
    """The file :func:`load_strongreject` reads, its sha256, and whether it is the published one."""
    return resolve(STRONGREJECT_DATA, source)


def load_strongreject(source: str | Path | None = None, *, limit: int | None = None) -> list[PromptRecord]:
    """Prompts with their StrongREJECT category in ``metadata['category']``.

    ``source``: a local CSV (columns category, source, forbidden_prompt), ``hf:NAME``, or None
    for the published CSV (downloaded once into the user cache and checked by sha256).
    """
    columns = ColumnMap(prompt="forbidden_prompt", id=None, category=None, expected_mode=None)
    records = load_prompts(strongreject_source(source).path, columns=columns)
    records = [r.model_copy(update={"id": f"sr-{i:03d}"}) for i, r in enumerate(records)]
    return subsample(records, limit)
