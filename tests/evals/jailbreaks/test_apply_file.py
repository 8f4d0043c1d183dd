"""``apply_to_file``: one JSON line per (prompt, jailbreak), atomic, errors with file:line."""

from __future__ import annotations

import json

import pytest

from deliberate.errors import DeliberateError, InputFileError
from deliberate.evals.jailbreaks import apply_jailbreak, apply_to_file


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_official_set_on_the_small_dataset(shared_data, use_official, tmp_path,
                                           conformance_transforms):
    out = tmp_path / "out" / "jailbroken.jsonl"
    small = shared_data / "strongreject" / "strongreject_small_dataset.csv"
    n = apply_to_file("official", small, out)
    rows = read(out)
    assert n == len(rows) == 60 * 25
    assert set(rows[0]) == {"forbidden_prompt", "jailbreak", "jailbroken_prompt"}
    expected = {(r["forbidden_prompt"], name): r["jailbroken_prompt"]
                for name, rs in conformance_transforms.items() for r in rs}
    got = {(r["forbidden_prompt"], r["jailbreak"]): r["jailbroken_prompt"] for r in rows}
    assert got == expected


def test_jsonl_input_custom_column_and_order(tmp_path, use_official):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Café ☕ first?"}\n\n{"text": "second"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert apply_to_file(["rot_13", "bon:2"], src, out, prompt_col="text", seed=3) == 6
    rows = read(out)
    assert [(r["forbidden_prompt"], r["jailbreak"]) for r in rows] == [
        (p, n) for p in ("Café ☕ first?", "second") for n in ("rot_13", "bon_0", "bon_1")]
    assert rows[1]["jailbroken_prompt"] == apply_jailbreak("bon_0", "Café ☕ first?", seed=3)
    assert "Café ☕" in out.read_text(encoding="utf-8")  # written as UTF-8, not escaped


def test_assets_dir_is_passed_through(tmp_path, use_official):
    src = tmp_path / "in.csv"
    src.write_text("forbidden_prompt\nHow?\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    apply_to_file("aim", src, tmp_path / "o.jsonl", assets_dir=empty)
    assert "Ilario" in read(tmp_path / "o.jsonl")[0]["jailbroken_prompt"]  # fallback wording


def test_missing_column_names_file_and_line(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("prompt\nHow?\n", encoding="utf-8")
    message = rf"{src}:2: no 'forbidden_prompt' column \(have: prompt\)"
    with pytest.raises(InputFileError, match=message):
        apply_to_file("none", src, tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_empty_prompt_names_its_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"forbidden_prompt": "ok"}\n{"forbidden_prompt": 5}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=rf"{src}:2:"):
        apply_to_file("none", src, tmp_path / "o.jsonl")


def test_unknown_name_and_empty_file(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("forbidden_prompt\n", encoding="utf-8")
    with pytest.raises(DeliberateError, match="unknown jailbreak 'nope'.*base64_raw"):
        apply_to_file("none,nope", src, tmp_path / "o.jsonl")
    with pytest.raises(InputFileError, match="no prompts"):
        apply_to_file("none", src, tmp_path / "o.jsonl")
    with pytest.raises(InputFileError, match="file not found"):
        apply_to_file("none", tmp_path / "missing.csv", tmp_path / "o.jsonl")


def test_failure_leaves_the_old_output(tmp_path, offline):
    src = tmp_path / "in.csv"
    src.write_text("forbidden_prompt\nHow?\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    out.write_text("old\n")
    with pytest.raises(DeliberateError, match="gcg_transfer_harmbench"):
        apply_to_file("none,gcg_transfer_harmbench", src, out)
    assert out.read_text() == "old\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
