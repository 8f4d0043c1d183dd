"""Shared fixtures: paths to small assets and the shared public data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ASSETS = Path(__file__).parent / "assets"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def mini_spec_path() -> Path:
    return ASSETS / "mini_spec.yaml"


@pytest.fixture
def mini_spec(mini_spec_path: Path):
    from deliberate.spec import load_spec

    return load_spec(mini_spec_path)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A 2-layer Qwen3 with an in-process tokenizer, built once per test session."""
    from support.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True, scope="session")
def _private_response_cache(tmp_path_factory):
    """Model calls that fall back to the default cache use a per-session file, never the user's
    ~/.cache (a reply cached by an earlier run would hide a request a test expects to see)."""
    previous = os.environ.get("DELIBERATE_CACHE")
    os.environ["DELIBERATE_CACHE"] = str(tmp_path_factory.mktemp("cache") / "responses.sqlite")
    yield
    if previous is None:
        os.environ.pop("DELIBERATE_CACHE", None)
    else:
        os.environ["DELIBERATE_CACHE"] = previous

