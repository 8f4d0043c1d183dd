"""Kill -9 a running stage, restart it: every request done exactly once, nothing re-sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

N_PROMPTS = 60
CONCURRENCY = 4


def _start_server(log: Path) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parents[1] / "support" / "loopback.py"),
         "--latency", "0.1", "--log", str(log)],
        stdout=subprocess.PIPE, text=True,
    )
    line = server.stdout.readline().strip()
    assert line.startswith("READY "), line
    return server, line.split(" ", 1)[1]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_kill_and_resume(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"q{i}"}) + "\n" for i in range(N_PROMPTS)))
    log, out, cache = tmp_path / "requests.log", tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
    server, base_url = _start_server(log)
    command = [sys.executable, "-m", "deliberate.cli", "sample", "--model", "openai/m",
               "--prompts", str(prompts), "--out", str(out), "--base-url", base_url,
               "--concurrency", str(CONCURRENCY), "--cache", str(cache), "--quiet"]
    try:
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while _lines(log) < N_PROMPTS // 3 and time.time() < deadline:
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert not out.exists()  # killed before the end: no partial output file
        sent_first = _lines(log)
        assert 0 < sent_first < N_PROMPTS

        second = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        sent_second = _lines(log) - sent_first
    finally:
        server.terminate()
        server.wait()

    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["prompt_id"] for r in records) == sorted(f"p{i}" for i in range(N_PROMPTS))
    # finished before the kill = answered and cached; only the rest (plus in-flight) are re-sent
    unfinished_upper = N_PROMPTS - (sent_first - CONCURRENCY)
    assert sent_second <= unfinished_upper
    assert sent_first + sent_second <= N_PROMPTS + CONCURRENCY

    third = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert third.returncode == 0
    assert "60 cached, 0 sent" in third.stderr
