"""Loading the 313 StrongREJECT forbidden prompts from the public CSV, HF, or a local path."""

from __future__ import annotations

from pathlib import Path

from deliberate.records.prompt import PromptRecord
from deliberate.records.sources import ColumnMap, load_prompts, subsample

PUBLIC_CSV = (
    "https://raw.githubusercontent.com/alexandrasouly/strongreject/main/strongreject_dataset/"
    "strongreject_dataset.csv"
)
"""The published dataset; pass a local copy (``--strongreject-data PATH``) to run offline."""


def load_strongreject(source: str | Path | None = None, *, limit: int | None = None) -> list[PromptRecord]:
    """Prompts with their StrongREJECT category in ``metadata['category']``.

    ``source``: a local CSV (columns category, source, forbidden_prompt), ``hf:NAME``, or None
    for the public CSV (needs network).
    """
    if source is None:
        source = _download(PUBLIC_CSV)
    columns = ColumnMap(prompt="forbidden_prompt", id=None, category=None, expected_mode=None)
    records = load_prompts(source, columns=columns)
    records = [r.model_copy(update={"id": f"sr-{i:03d}"}) for i, r in enumerate(records)]
    return subsample(records, limit)


def _download(url: str) -> Path:
    """Fetch a public file once into the user cache dir."""
    import urllib.request

    from platformdirs import user_cache_dir

    target = Path(user_cache_dir("deliberate")) / url.rsplit("/", 1)[-1]
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        urllib.request.urlretrieve(url, target)
    return target
