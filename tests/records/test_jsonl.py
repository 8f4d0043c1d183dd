"""JSONL storage: validated reads with file:line errors, atomic writes, crash-safe appends."""

from __future__ import annotations

import pytest

from deliberate.errors import InputFileError
from deliberate.records import JsonlAppender, PromptRecord, read_jsonl, write_jsonl


def test_round_trip(tmp_path):
    path = tmp_path / "out" / "p.jsonl"
    recs = [PromptRecord(id="a", prompt="hi", category="violence"), PromptRecord(id="b", prompt="yo")]
    assert write_jsonl(path, recs) == 2
    back = read_jsonl(path, PromptRecord)
    assert [r.id for r in back] == ["a", "b"]
    assert back[0].category == ["violence"]


@pytest.mark.parametrize(("text", "line", "message"), [
    ('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": \n', 2, "bad JSON"),
    ('{"id": "a", "prompt": "x"}\n\n{"id": "b"}\n', 3, "needs a 'prompt'"),
], ids=["bad-json", "missing-prompt"])
def test_bad_line_named(tmp_path, text, line, message):
    path = tmp_path / "p.jsonl"
    path.write_text(text)
    with pytest.raises(InputFileError) as info:
        read_jsonl(path, PromptRecord)
    assert info.value.line == line and message in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("\n")
    with pytest.raises(InputFileError, match="empty"):
        read_jsonl(path, PromptRecord)
    assert read_jsonl(path, PromptRecord, allow_empty=True) == []


def test_non_utf8_line_named(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": "caf\xe9"}\n')
    with pytest.raises(InputFileError) as info:
        read_jsonl(path, PromptRecord)
    assert info.value.line == 2 and "UTF-8" in str(info.value)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [PromptRecord(id="old", prompt="x")])

    def records():
        yield PromptRecord(id="new", prompt="y")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, records())
    assert [r.id for r in read_jsonl(path, PromptRecord)] == ["old"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_appender_survives_torn_tail(tmp_path):
    path = tmp_path / "results.jsonl"
    with JsonlAppender(path) as out:
        out.write([PromptRecord(id="a", prompt="x")])
    with open(path, "a") as handle:  # a crash mid-line
        handle.write('{"id": "b", "pro')
    assert [r.id for r in read_jsonl(path, PromptRecord, allow_torn_tail=True)] == ["a"]
    with pytest.raises(InputFileError):
        read_jsonl(path, PromptRecord)
    with JsonlAppender(path) as out:  # reopening repairs the tail
        out.write([PromptRecord(id="c", prompt="z")])
    assert [r.id for r in read_jsonl(path, PromptRecord)] == ["a", "c"]
