"""Usage and input errors through the installed console script: exit 2, one line, the flag or
file named, never a traceback (a dependency that changes its exception types is caught here)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("deliberate")
DEAD = ["--base-url", "http://127.0.0.1:9/v1"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "prompt": "hi"}\n')
    return path


@pytest.mark.parametrize("extra, named", [
    (["--nope"], "--nope"),
    (["--concurrency", "0"], "--concurrency"),
    (["--samples", "0"], "--samples"),
    (["--batch-size", "0"], "--batch-size"),
    (["--max-tokens", "0"], "--max-tokens"),
    (["--temperature", "-1"], "--temperature"),
    (["--timeout", "0"], "--timeout"),
    (["--max-failure-rate", "2"], "--max-failure-rate"),
    (["--extra-body", "{not json"], "--extra-body"),
])
def test_sample_flag_errors(prompts: Path, tmp_path: Path, extra: list[str], named: str) -> None:
    done = run("sample", "--model", "openai/m", "--prompts", str(prompts), "--out",
               str(tmp_path / "o.jsonl"), *DEAD, *extra)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error:") and done.stderr.count("\n") == 1, done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr


def test_bad_environment_variable(prompts: Path, tmp_path: Path) -> None:
    done = run("sample", "--model", "openai/m", "--prompts", str(prompts), "--out",
               str(tmp_path / "o.jsonl"), *DEAD, env={"DELIBERATE_CONCURRENCY": "abc"})
    assert done.returncode == 2 and "--concurrency" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command, named", [
    (["judge", "--generations", "g.jsonl", "--judge", "openai/j", "--out", "o.jsonl", "--judge-k", "0"], "--judge-k"),
    (["eval", "--model", "openai/m", "--out", "run", "--refusal-method", "bogus"], "--refusal-method"),
    (["eval", "--model", "openai/m", "--out", "run", "--suites", "nope"], "unknown suite 'nope'"),
    (["eval", "--model", "openai/m", "--out", "run", "--jailbreaks", "nope"], "nope"),
    (["filter", "--judged", "j.jsonl", "--out", "o.jsonl", "--min-score", "11"], "--min-score"),
    (["filter", "--judged", "j.jsonl", "--out", "o.jsonl", "--dedup-threshold", "5"], "--dedup-threshold"),
    (["filter", "--judged", "j.jsonl", "--out", "o.jsonl", "--max-per-category", "0"], "--max-per-category"),
    (["filter", "--judged", "j.jsonl", "--out", "o.jsonl", "--reasoning-field", "role"], "--reasoning-field"),
    (["report", "missing-run", "--n-boot", "-1"], "--n-boot"),
    (["run", "missing.yaml"], "missing.yaml"),
    (["spec", "validate", "missing.yaml"], "missing.yaml"),
    (["sft", "--dataset", "d.jsonl"], "no model given"),
    (["rl", "--model", "hf/x", "--dataset", "d", "--nonsense-flag", "1"], "nonsense"),
])
def test_command_errors(tmp_path: Path, command: list[str], named: str) -> None:
    done = run(*command, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error:") and done.stderr.count("\n") == 1, done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()  # nothing written before the usage was checked


def test_input_file_errors(tmp_path: Path, prompts: Path) -> None:
    cases = {
        "--prompts is a folder": (["--prompts", str(tmp_path)], "is a directory"),
        "--out is the input": (["--prompts", str(prompts), "--out", str(prompts)], "also an input"),
        "--out is a folder": (["--prompts", str(prompts), "--out", str(tmp_path)], "file path"),
        "--cache is a folder": (["--prompts", str(prompts), "--cache", str(tmp_path)], "--cache"),
    }
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    cases["corrupt parquet"] = (["--prompts", str(tmp_path / "bad.parquet")], "Parquet")
    for name, (args, named) in cases.items():
        full = ["sample", "--model", "openai/m", "--out", str(tmp_path / "o.jsonl"), *DEAD, *args]
        done = run(*full)
        assert done.returncode == 2, (name, done.stderr)
        assert named in done.stderr and "Traceback" not in done.stderr, (name, done.stderr)
    assert prompts.read_text() == '{"id": "a", "prompt": "hi"}\n'  # the input survived


def test_bom_csv_keeps_its_id_column(tmp_path: Path) -> None:
    from deliberate.records.sources import load_prompts

    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,prompt\nx1,hello\n".encode())
    assert [r.id for r in load_prompts(path)] == ["x1"]


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "pipeline.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    done = run("run", str(bomb))
    assert done.returncode == 2 and "expands to more than" in done.stderr


def test_a_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    from deliberate.errors import DeliberateError
    from deliberate.records.claim import claim_output

    out = tmp_path / "o.jsonl"
    first = claim_output(out)
    first.__enter__()
    with pytest.raises(DeliberateError, match="being written by another"), claim_output(out):
        pass
    first.__exit__(None, None, None)
    with claim_output(out):  # released: a later writer is fine
        pass
    assert not out.with_name(".o.jsonl.lock").exists()


def test_disk_full_is_one_line_and_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deliberate.errors import InputFileError
    from deliberate.records.jsonl import write_lines_atomic

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputFileError, match="No space left on device") as info:
        write_lines_atomic(tmp_path / "out.jsonl", [json.dumps({"a": 1}) + "\n"])
    assert str(tmp_path / "out.jsonl") in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["rename", "create"])
def test_permission_denied_on_the_output_is_one_line_exit_2_and_leaves_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, mini_spec,
        where: str) -> None:
    # Simulated: the tests may run as root, for whom chmod does not take writing away.
    import tempfile

    from judge.test_filter import judged

    from deliberate.cli.app import main
    from deliberate.records import write_jsonl

    source, out = tmp_path / "in" / "judged.jsonl", tmp_path / "out" / "sft.jsonl"
    write_jsonl(source, [judged(mini_spec, "a", 9)])
    denied = PermissionError(errno.EACCES, "Permission denied")
    if where == "rename":  # the temp file was written, then the rename onto OUT is refused
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst) == out:
                raise denied
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
    else:  # the folder is not writable: no temp file can be made
        real_mkstemp = tempfile.mkstemp

        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and Path(dir) == out.parent:
                raise denied
            return real_mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert main(["filter", "--judged", str(source), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}") and "Permission denied" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(out.parent.iterdir()) == []  # no output, no temp file, no lock left behind


def test_a_cache_that_is_not_sqlite_is_one_line(tmp_path: Path, prompts: Path) -> None:
    cache = tmp_path / "notes.sqlite"
    cache.write_text("these are my notes, not a response cache\n" * 10)
    done = run("sample", "--model", "openai/m", "--prompts", str(prompts), "--out",
               str(tmp_path / "o.jsonl"), *DEAD, "--cache", str(cache))
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: --cache {cache}: not a usable SQLite response cache (file is not a database)\n"
    assert cache.read_text().startswith("these are my notes")  # left as it was
    assert not (tmp_path / "o.jsonl").exists()


def test_a_truncated_run_manifest_is_one_line(tmp_path: Path) -> None:
    from deliberate.records.provenance import ModelInfo, Provenance

    run_dir = tmp_path / "run"
    Provenance(kind="eval", status="done", config={"suites": ["xstest"]},
               models={"evaluated": ModelInfo(ref="openai/m")}).save(run_dir)
    manifest = run_dir / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])  # cut off mid-write
    done = run("report", str(run_dir), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {manifest}: invalid manifest") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr and not (tmp_path / "r.html").exists()
