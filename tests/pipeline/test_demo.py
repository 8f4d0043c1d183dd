"""The demo's code path end to end, with the tiny model as student and two SFT steps.

The real demo (Gemma 3 270M, ~15 min) runs in benchmarks/demo_timing.py, not here.
"""

from __future__ import annotations

import json

from deliberate.cli.app import main
from deliberate.pipeline.demo import QUICK
from deliberate.pipeline.demo_data import seed_examples, write_demo_data

SEEDS_PENDING: set[str] = set()
"""Default-spec categories that the shipped seed set does not cover yet (none since seeds v2;
tests/data/test_seeds.py checks the set in depth)."""


def test_seed_set_is_complete_and_cites_real_rules():
    from deliberate.spec import load_spec
    from deliberate.spec.checks import check_citations, check_leak

    spec = load_spec("default")
    seeds = seed_examples()
    assert len(seeds) >= 420
    seeded = {c for s in seeds for c in s["category"]}
    assert seeded <= {*spec.category_ids, "none"} and "none" in seeded
    assert set(spec.category_ids) - seeded == SEEDS_PENDING
    assert {s["split"] for s in seeds} == {"train", "eval"}
    for s in seeds:
        assert check_citations(s["reasoning"], spec, s["category"]).valid, s["id"]
        assert not check_leak(s["reasoning"], spec).leaked, s["id"]
        assert s["expected_mode"] in {"comply", "safe_complete", "refuse"}


def test_demo_data_files(shared_data, tmp_path):
    files = write_demo_data(tmp_path, QUICK, shared_data)
    first = json.loads(files["sft"].read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]][-2:] == ["user", "assistant"]
    assert first["messages"][-1]["reasoning_content"]
    assert len(files["spec"].read_text().splitlines()) == QUICK.seed_eval
    assert "contrast" not in files["xstest"].read_text()  # safe prompts only
    rows = [json.loads(line) for line in files["sft"].read_text().splitlines()]
    modes = {s["id"]: s["expected_mode"] for s in seed_examples()}
    assert all(r["messages"][-1]["reasoning_content"].startswith("Rules: ") for r in rows)
    assert sum(modes[r["prompt_id"]] == "comply" for r in rows) / len(rows) >= QUICK.comply_share


def test_demo_data_carries_operator_turns(tmp_path):
    """Seeds with an operator system prompt train as [system, user, assistant], and held-out ones
    reach the spec suite as conversations (with the deciding rule in metadata)."""
    from dataclasses import replace

    from deliberate.records.jsonl import read_jsonl
    from deliberate.records.prompt import PromptRecord

    seeds = {s["id"]: s for s in seed_examples()}
    raw = replace(QUICK, seed_eval=len(seeds), compact_reasoning=None, lead_rules=False, comply_share=None)
    files = write_demo_data(tmp_path, raw, None)
    assert files["xstest"] is None and files["strongreject"] is None
    rows = [json.loads(line) for line in files["sft"].read_text().splitlines()]
    assert len(rows) == sum(s["split"] == "train" for s in seeds.values())
    for row in rows:
        seed = seeds[row["prompt_id"]]
        roles = [m["role"] for m in row["messages"]]
        assert roles == (["system"] if seed.get("system") else []) + ["user", "assistant"]
        if seed.get("system"):
            assert row["messages"][0]["content"] == seed["system"]
        assert row["messages"][-1]["reasoning_content"] == seed["reasoning"]
    prompts = read_jsonl(files["spec"], PromptRecord)
    assert len(prompts) == sum(s["split"] == "eval" for s in seeds.values())
    operator = [p for p in prompts if seeds[p.id].get("system")]
    assert operator  # the held-out split keeps some operator turns
    for p in prompts:
        seed = seeds[p.id]
        assert p.text == seed["prompt"] and p.expected_mode.value == seed["expected_mode"]
        assert p.metadata.get("rule") == seed.get("rule")
        assert [m.role for m in p.as_messages()] == (["system"] if seed.get("system") else []) + ["user"]


def test_demo_smoke_with_tiny_model(shared_data, tiny_model_path, tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--quick", "--out", str(out), "--student", f"hf/{tiny_model_path}",
                 "--max-steps", "2", "--data-dir", str(shared_data), "--spec-in-context"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("refusal_rate_disallowed", "compliance_rate_benign", "valid_citation_rate",
                "strongreject_refusal_rate", "gsm8k_accuracy"):
        assert set(summary[key]) == {"before", "spec_in_context", "after"}
        assert all(v is None or 0.0 <= v <= 1.0 for v in summary[key].values())
    assert (out / "report.html").read_text().count("data:image/png;base64,") >= 1
    assert (out / "sft" / "config.json").exists()
    in_context = json.loads((out / "eval" / "spec_in_context" / "manifest.json").read_text())
    assert in_context["config"]["spec_in_context"] and in_context["config"]["spec_context"] == "summary"
    assert "deliberate run" in capsys.readouterr().err  # says what a real run would be


def test_a_missing_local_student_is_one_line_exit_2(tmp_path):
    """Through the installed console script: no traceback, nothing written, nothing fetched."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("deliberate")
    out = tmp_path / "demo"
    done = subprocess.run([str(script), "demo", "--student", f"hf/{tmp_path}/no-such-model", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: --student hf/{tmp_path}/no-such-model: no such local model {tmp_path}/no-such-model")
    assert "Traceback" not in done.stderr and not (out / "summary.json").exists()


def test_a_missing_data_dir_is_one_line_exit_2_before_any_model_work(tmp_path):
    """A named --data-dir that does not exist stops the demo: never ../shared/data in its place."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("deliberate")
    out = tmp_path / "demo"
    done = subprocess.run([str(script), "demo", "--quick", "--data-dir", str(tmp_path / "nope"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"error: --data-dir {tmp_path / 'nope'}: no such folder"
    assert not (out / "models").exists()  # stopped before the student was prepared


def test_find_data_dir_refuses_a_missing_named_folder(tmp_path, monkeypatch):
    import pytest

    from deliberate.errors import DeliberateError
    from deliberate.pipeline.demo_data import find_data_dir

    monkeypatch.setenv("DELIBERATE_DATA_DIR", str(tmp_path / "gone"))
    with pytest.raises(DeliberateError, match=r"\$DELIBERATE_DATA_DIR .*gone: no such folder"):
        find_data_dir(None)
    assert find_data_dir(tmp_path) == tmp_path  # the flag wins over the variable
