"""Streaming reads and resumable, input-ordered outputs: torn tails, checkpoints, changed inputs."""

from __future__ import annotations

import json

import pytest

from deliberate.errors import DeliberateError, InputFileError
from deliberate.records import JsonlAppender, PromptRecord
from deliberate.records.jsonl import (
    complete_size,
    count_complete_lines,
    drop_torn_tail,
    iter_jsonl_lines,
    iter_records,
)
from deliberate.records.resume import ResumableOutput


def test_reading_streams_line_by_line(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(
        json.dumps({"id": f"p{i}", "prompt": "x"}).encode() + b"\n" for i in range(1000)))
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read whole"))
    records = iter_records(path, PromptRecord)
    assert next(records)[1].id == "p0"  # the BOM is skipped
    assert sum(1 for _ in records) == 999


def test_torn_tail_dropped_only_when_allowed(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "pro')
    assert [o["id"] for _, o in iter_jsonl_lines(path, allow_torn_tail=True)] == ["a", "b"]
    with pytest.raises(InputFileError) as info:
        list(iter_jsonl_lines(path))
    assert info.value.line == 3
    path.write_text('{"id": "a"}\n{"id": "b"')  # a bad line that is not last is an error
    assert [o["id"] for _, o in iter_jsonl_lines(path, allow_torn_tail=True)] == ["a"]


def test_complete_lines_and_tail_repair(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b"x" * 3_000_000 + b"\n" + b"y\n" + b"torn")
    assert count_complete_lines(path) == 2 and complete_size(path) == 3_000_003
    assert drop_torn_tail(path) == 3_000_003 and path.read_bytes().endswith(b"y\n")
    assert count_complete_lines(tmp_path / "missing.jsonl") == 0
    with JsonlAppender(path) as out:  # one line per input: skip count_complete_lines inputs
        out.write([PromptRecord(id="z", prompt="q")])
    assert count_complete_lines(path) == 3


def _write(output, inputs, fail_every=0):
    for item in inputs:
        name = "failures" if fail_every and int(item[1:]) % fail_every == 0 else "records"
        output.write(name, json.dumps({"id": item}))
        if name == "records":
            output.write(name, json.dumps({"id": item, "sample": 1}))
        output.input_done(item)


def _files(tmp_path):
    return {"records": tmp_path / "out.jsonl", "failures": tmp_path / "out.failures.jsonl"}


def test_resume_after_a_crash_gives_the_same_files(tmp_path):
    inputs = [f"i{n}" for n in range(50)]
    reference = tmp_path / "ref"
    reference.mkdir()
    with ResumableOutput(_files(reference), reference / "cp.json", every=4) as output:
        _write(output, output.resume(inputs, key=str), fail_every=7)
    output.finish()

    output = ResumableOutput(_files(tmp_path), tmp_path / "cp.json", every=4)
    _write(output, list(output.resume(inputs, key=str))[:22], fail_every=7)  # 20 committed
    for handle in output._handles.values():  # the kill: unflushed lines, a torn line on disk
        handle.write(b'{"id": "torn')
        handle.flush()
    again = ResumableOutput(_files(tmp_path), tmp_path / "cp.json", every=4)
    assert again.done == 20
    _write(again, again.resume(inputs, key=str), fail_every=7)
    again.finish()
    for name in ("out.jsonl", "out.failures.jsonl"):
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes()
    assert not (tmp_path / "cp.json").exists()


def test_resume_refuses_other_inputs(tmp_path):
    output = ResumableOutput(_files(tmp_path), tmp_path / "cp.json", every=2)
    _write(output, output.resume(["a1", "a2", "a3", "a4"], key=str))
    output.close()
    for inputs, why in ((["a1", "b2", "a3", "a4"], "not the ones"), (["a1"], "only 1 inputs")):
        again = ResumableOutput(_files(tmp_path), tmp_path / "cp.json")
        with pytest.raises(DeliberateError, match=why):
            list(again.resume(inputs, key=str))
        again.close()


def test_no_checkpoint_starts_afresh_and_a_short_file_is_refused(tmp_path):
    (tmp_path / "out.jsonl").write_text("old\n")
    with ResumableOutput(_files(tmp_path), tmp_path / "cp.json") as output:
        assert output.done == 0
        _write(output, output.resume(["x1"], key=str))
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 2
    (tmp_path / "out.jsonl").write_text("")
    with pytest.raises(InputFileError, match="shorter"):
        ResumableOutput(_files(tmp_path), tmp_path / "cp.json")
