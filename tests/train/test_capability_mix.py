"""SFT mixes GSM8K reasoning in by default: solutions as the CoT, recorded in the manifest,
and an error naming the flags when the data cannot be had (never a silent fallback)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from deliberate.errors import DeliberateError
from deliberate.evals import public_data
from deliberate.train.capability_mix import gsm8k_rows
from deliberate.train.config import SFTTrainConfig
from deliberate.train.sft import build_sft_trainer, run_sft
from train.test_sft import COT, tiny_config


@pytest.fixture
def gsm8k_train(shared_data):
    return shared_data / "capability" / "gsm8k" / "train.jsonl"


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty data cache; a download fails as it would offline (tests never reach the network)."""
    calls = []

    def no_network(url, dest):
        calls.append(url)
        raise OSError("network unreachable")

    monkeypatch.setattr(public_data, "cache_dir", lambda: tmp_path / "data-cache")
    monkeypatch.setattr(public_data, "_fetch", no_network)
    return calls


def test_the_default_mixes_gsm8k_at_a_fifth():
    config = SFTTrainConfig(model="hf/m", dataset="d.jsonl", output_dir="o", report_to="none")
    assert (config.mix_dataset, config.mix_ratio) == ("gsm8k", 0.2)
    off = SFTTrainConfig(model="hf/m", dataset="d.jsonl", output_dir="o", report_to="none",
                         mix_dataset="none", mix_ratio=0.0)
    assert off.mix_dataset is None
    with pytest.raises(DeliberateError, match="--mix_ratio 0"):
        SFTTrainConfig(model="hf/m", dataset="d.jsonl", output_dir="o", report_to="none", mix_dataset="none")


def test_gsm8k_rows_carry_the_solution_as_reasoning(gsm8k_train):
    from deliberate.evals.gsm8k import read_gsm8k

    rows = gsm8k_rows(read_gsm8k(gsm8k_train, "train"))
    assert len(rows) == 7473
    user, assistant = rows[0]["messages"]
    assert user["role"] == "user" and "####" not in user["content"]  # the bare question
    assert assistant["content"] == "The answer is 72."
    assert assistant["reasoning_content"].startswith("Natalia sold 48/2 = 24 clips in May.")
    assert not any("<<" in r["messages"][1]["reasoning_content"] or "####" in r["messages"][1]["reasoning_content"]
                   for r in rows)


def test_a_local_gsm8k_file_is_detected_and_trained_on_with_its_cot(tiny_model_path, tmp_path, gsm8k_train,
                                                                      offline_cache):
    result = run_sft(tiny_config(tiny_model_path, tmp_path, mix_dataset=str(gsm8k_train), mix_ratio=0.2,
                                 max_steps=1))
    trainer = result.trainer
    tok = trainer.processing_class
    texts = [tok.decode(row["input_ids"]) for row in trainer.train_dataset]
    maths = [t for t in texts if "The answer is" in t]
    assert len(texts) == 8 + 2 and len(maths) == 2  # 2 of 10 = 0.2
    assert all("<think>" in t and "</think>" in t for t in maths) and sum(COT in t for t in texts) == 8
    mix = json.loads((result.output_dir / "manifest.json").read_text())["details"]["mix"]
    assert (mix["format"], mix["rows"], mix["ratio"], mix["ratio_reached"]) == ("gsm8k", 2, 0.2, 0.2)
    assert mix["source"]["official"] and mix["source"]["sha256"] == public_data.GSM8K_TRAIN.sha256
    assert offline_cache == []


def test_offline_without_a_copy_is_an_error_naming_the_flags(tiny_model_path, tmp_path, offline_cache):
    with pytest.raises(DeliberateError) as error:
        build_sft_trainer(tiny_config(tiny_model_path, tmp_path, mix_dataset="gsm8k", mix_ratio=0.2))
    assert "--mix_dataset PATH" in str(error.value) and "--mix_ratio 0" in str(error.value)
    assert offline_cache == [public_data.GSM8K_TRAIN.url]


def test_the_default_downloads_the_pinned_file_once(tiny_model_path, tmp_path, gsm8k_train, monkeypatch):
    fetched = []
    monkeypatch.setattr(public_data, "cache_dir", lambda: tmp_path / "data-cache")
    monkeypatch.setattr(public_data, "_fetch",
                        lambda url, dest: (fetched.append(url), dest.write_bytes(gsm8k_train.read_bytes())))
    for _ in range(2):
        trainer, plan = build_sft_trainer(tiny_config(tiny_model_path, tmp_path, mix_dataset="gsm8k", mix_ratio=0.2))
    assert fetched == [public_data.GSM8K_TRAIN.url] and plan.mix["dataset"] == "gsm8k"
    assert plan.mix["source"]["official"] and len(trainer.train_dataset) == 10


def test_ratio_zero_reads_nothing(tiny_model_path, tmp_path, offline_cache):
    trainer, plan = build_sft_trainer(tiny_config(tiny_model_path, tmp_path, mix_dataset="gsm8k", mix_ratio=0.0))
    assert len(trainer.train_dataset) == 8 and plan.mix == {"dataset": None, "ratio": 0.0, "rows": 0,
                                                           "ratio_reached": 0.0}
    assert offline_cache == []
