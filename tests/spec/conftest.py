"""Fixtures for the spec tests: a small format-2 spec next to the format-1 mini spec."""

from __future__ import annotations

from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@pytest.fixture
def v2_spec_path() -> Path:
    return ASSETS / "v2_spec.yaml"


@pytest.fixture
def v2_spec(v2_spec_path: Path):
    from deliberate.spec import load_spec

    return load_spec(v2_spec_path)
