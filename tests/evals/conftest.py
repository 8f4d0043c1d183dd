"""Eval tests never reach the network for the official StrongREJECT files.

The jailbreak templates come from the shared official copies when present (so the eval tests
run the official wording), else from an empty folder (our fallback wording); a download
attempt fails loudly.
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
    from deliberate.evals.jailbreaks import assets

    folder = OFFICIAL_ASSETS if OFFICIAL_ASSETS.is_dir() else tmp_path_factory.mktemp("no-assets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(assets.ENV_VAR, str(folder))
        mp.setattr(assets, "_fetch", _no_network)
        assets.clear_cache()
        yield
    assets.clear_cache()
