"""The chunked stage driver: output in input order, resumable after a failure, totals summed."""

from __future__ import annotations

import json

import pytest

from deliberate.errors import DeliberateError
from deliberate.llm.usage import ModelUsage, UsageReport
from deliberate.records.chunked import partial_paths, run_chunked
from deliberate.records.prompt import PromptRecord
from deliberate.records.response import FailureRecord
from deliberate.records.stage_output import StageResult

PROMPTS = [PromptRecord(id=f"p{i}", prompt=f"question {i}") for i in range(23)]


class Stage:
    """A list-based stage: answers every prompt but each 5th (a failure); can crash once."""

    def __init__(self, crash_on_call: int | None = None) -> None:
        self.calls, self.seen, self.crash_on_call = 0, [], crash_on_call

    def __call__(self, chunk: list[PromptRecord]) -> StageResult:
        self.calls += 1
        if self.calls == self.crash_on_call:
            raise KeyboardInterrupt
        self.seen += [p.id for p in chunk]
        records = [p.model_copy(update={"category": ["none"]}) for p in chunk if int(p.id[1:]) % 5]
        failures = [FailureRecord(id=p.id, stage="t", model="m", error="no")
                    for p in chunk if not int(p.id[1:]) % 5]
        usage = UsageReport(models={"m": ModelUsage(requests=len(chunk))})
        return StageResult(records, failures, usage)


def _run(out, stage, fingerprint="f"):
    return run_chunked(iter(PROMPTS), stage, out, key=lambda p: p.id, chunk_size=4,
                       fingerprint=fingerprint,
                       tally=lambda records: {"kept": len(records)})


def test_records_in_input_order_and_totals(tmp_path):
    totals = _run(tmp_path / "out.jsonl", Stage())
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert ids == [p.id for p in PROMPTS if int(p.id[1:]) % 5]
    failed = (tmp_path / "out.failures.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in failed] == ["p0", "p5", "p10", "p15", "p20"]
    assert (totals.inputs, totals.records, totals.failures) == (23, 18, 5)
    assert totals.usage.models["m"].requests == 23 and totals.tallies == {"kept": 18}
    assert json.loads((tmp_path / "out.usage.json").read_text())["models"]["m"]["requests"] == 23
    assert not any(p.exists() for p in partial_paths(tmp_path / "out.jsonl").values())


def test_a_run_cut_short_resumes_after_its_last_chunk_to_the_same_files(tmp_path):
    _run(tmp_path / "clean.jsonl", Stage())
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        _run(out, Stage(crash_on_call=4))  # three chunks committed, the fourth cut short
    assert not out.exists() and partial_paths(out)["checkpoint"].exists()
    second = Stage()
    totals = _run(out, second)
    assert second.seen == [p.id for p in PROMPTS[12:]]  # the committed chunks are not redone
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert (tmp_path / "out.failures.jsonl").read_bytes() == (tmp_path / "clean.failures.jsonl").read_bytes()
    assert (totals.inputs, totals.records, totals.failures) == (23, 18, 5)  # earlier chunks counted


def test_other_settings_do_not_resume_a_partial_output(tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        _run(out, Stage(crash_on_call=2))
    with pytest.raises(DeliberateError, match="cannot resume"):
        _run(out, Stage(), fingerprint="other settings")


def test_nothing_failed_leaves_no_failures_file(tmp_path):
    (tmp_path / "out.failures.jsonl").write_text("stale\n")
    totals = run_chunked(iter(PROMPTS[1:5]), Stage(), tmp_path / "out.jsonl", key=lambda p: p.id)
    assert totals.failures == 0 and not (tmp_path / "out.failures.jsonl").exists()


def test_an_input_edited_under_the_same_id_is_not_resumed(tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        _run(out, Stage(crash_on_call=3))
    PROMPTS[1] = PROMPTS[1].model_copy(update={"prompt": "an edited question"})
    try:
        with pytest.raises(DeliberateError, match="not the ones it was written from"):
            _run(out, Stage())
    finally:
        PROMPTS[1] = PromptRecord(id="p1", prompt="question 1")


def test_every_chunks_requests_advance_one_progress_bar(tmp_path):
    from deliberate.llm.progress import open_progress

    bars = []

    def stage(chunk):
        bar = open_progress("generate", total=len(chunk), enabled=True)  # what a stream opens
        bar.advance(len(chunk))
        bar.close()
        bars.append(bar._bar)
        return StageResult([p.model_copy(update={"category": ["none"]}) for p in chunk], [], UsageReport())

    run_chunked(list(PROMPTS), stage, tmp_path / "o.jsonl", key=lambda p: p.id, chunk_size=4)
    assert len(bars) == 6 and all(bar is bars[0] for bar in bars)
    assert bars[0].completed == 23 and bars[0].description == "generate (23/23 inputs done)"
