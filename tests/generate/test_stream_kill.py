"""Kill -9 ``deliberate generate`` (the installed script) mid-run, run it again: the output is
byte for byte an uninterrupted run's, unsharded and as one shard, with 20% of the server's
replies faults (429, 500, cut-off JSON) retried along the way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

N_PROMPTS, SAMPLES, CHUNK = 160, 2, 8
SUPPORT = Path(__file__).parents[1] / "support"
SCRIPT = Path(sys.executable).with_name("deliberate")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "requests.log"
    process = subprocess.Popen([sys.executable, str(SUPPORT / "loopback.py"), "--log", str(log),
                                "--latency", "0.01", "--fault-rate", "0.2",
                                "--fault-kinds", "429,500,garbage"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    assert line.startswith("READY "), line
    yield line.split(" ", 1)[1], log
    process.terminate()
    process.wait()


def _generate(base_url: str, prompts: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [str(SCRIPT), "generate", "--prompts", str(prompts), "--teacher", "openai/m",
            "--samples", str(SAMPLES), "--attempts", "1", "--out", str(out), "--cache", str(cache),
            "--base-url", base_url, "--concurrency", "4", "--max-attempts", "12",
            "--backoff-base", "0.01", "--backoff-max", "0.05", "--chunk-size", str(CHUNK),
            "--quiet", *extra]


def _done(progress: Path) -> int:
    try:
        return json.loads(progress.read_text())["done"]
    except (OSError, ValueError, KeyError):
        return 0


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("shard", [None, "2/3"])
def test_a_killed_stage_reruns_to_the_uninterrupted_output(tmp_path, server, shard):
    base_url, log = server
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"question {i}",
                                           "category": "none"}) + "\n" for i in range(N_PROMPTS)))
    extra = ["--shard", shard] if shard else []
    clean = tmp_path / "clean" / "g.jsonl"
    done = subprocess.run(_generate(base_url, prompts, clean, tmp_path / "clean.sqlite", *extra),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out, progress = tmp_path / "g.jsonl", tmp_path / "g.progress.json"
    command = _generate(base_url, prompts, out, tmp_path / "cache.sqlite", *extra)
    first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _done(progress) < 3 * CHUNK and first.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_at_kill = _done(progress)
    assert 0 < done_at_kill and not out.exists(), "killed before the end: no output file yet"
    sent_before = _lines(log)
    second = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 0, second.stderr
    assert out.read_bytes() == clean.read_bytes()
    assert not (tmp_path / "g.failures.jsonl").exists()  # every fault was retried away
    assert not progress.exists() and not (tmp_path / "g.jsonl.partial").exists()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    expected = N_PROMPTS if shard is None else sum(
        1 for i in range(N_PROMPTS) if _in_shard(f"p{i}", shard))
    assert len(records) == expected * SAMPLES
    # the rerun did not ask again for the chunks committed before the kill (they are skipped)
    assert _lines(log) - sent_before < (expected - done_at_kill) * SAMPLES * 2


def _in_shard(prompt_id: str, shard: str) -> bool:
    from deliberate.records.shards import Shard

    return Shard.parse(shard).contains(prompt_id)
