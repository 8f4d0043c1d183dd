"""Preflight says up front that SFT's capability mix will be downloaded, and rejects a missing file."""

from __future__ import annotations

import pytest

from deliberate.errors import DeliberateError
from deliberate.pipeline.config import load_pipeline_config
from deliberate.pipeline.preflight import preflight
from pipeline.test_pipeline import write_config


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    from deliberate.evals import public_data

    monkeypatch.setattr(public_data, "cache_dir", lambda: tmp_path / "data-cache")


def notes_for(tmp_path, **sft):
    config = load_pipeline_config(write_config(tmp_path, "http://127.0.0.1:9/v1", sft={"enabled": True, **sft}))
    return preflight(config, ["sft"])


def test_the_default_mix_download_is_announced(tmp_path, empty_cache):
    assert any("GSM8K train set) will be downloaded" in n for n in notes_for(tmp_path))
    assert not any("GSM8K" in n for n in notes_for(tmp_path, mix_ratio=0.0))


def test_a_missing_mix_file_is_a_problem(tmp_path, empty_cache):
    with pytest.raises(DeliberateError, match="stages.sft.mix_dataset: no such file"):
        notes_for(tmp_path, mix_dataset=str(tmp_path / "nope.jsonl"))
