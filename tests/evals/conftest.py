"""Eval tests never reach the network for the official StrongREJECT files or the prompt sets.

The jailbreak templates and rubric prompts come from the shared official copies when present
(so the eval tests run the official wording), else from an empty folder (our fallback wording);
a download attempt (official files or the published prompt CSVs) fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
OFFICIAL_ASSETS = SHARED_DATA / "strongreject" / "official"


def _no_network(url: str, dest: Path) -> None:
    raise AssertionError(f"a test tried to download {url}")


@pytest.fixture(autouse=True, scope="session")
def _strongreject_assets_offline(tmp_path_factory):
    from deliberate.evals import public_data
    from deliberate.evals.jailbreaks import assets

    folder = OFFICIAL_ASSETS if OFFICIAL_ASSETS.is_dir() else tmp_path_factory.mktemp("no-assets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(assets.ENV_VAR, str(folder))
        mp.setattr(assets, "_fetch", _no_network)
        mp.setattr(public_data, "_fetch", _no_network)
        data_cache = tmp_path_factory.mktemp("data-cache")  # never the user's cached CSVs
        mp.setattr(public_data, "cache_dir", lambda: data_cache)
        assets.clear_cache()
        yield
    assets.clear_cache()
