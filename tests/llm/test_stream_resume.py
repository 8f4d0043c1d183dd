"""Kill -9 a streaming stage mid-run, restart it: the output file is what an unbroken run writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

N_PROMPTS, SAMPLES = 120, 2
SUPPORT = Path(__file__).parents[1] / "support"


def _server(log: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([sys.executable, str(SUPPORT / "loopback.py"), "--log", str(log),
                               *flags], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    assert line.startswith("READY "), line
    return server, line.split(" ", 1)[1]


def _stage(base_url: str, prompts: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, str(SUPPORT / "stream_stage.py"), "--prompts", str(prompts),
            "--out", str(out), "--base-url", base_url, "--cache", str(cache),
            "--samples", str(SAMPLES), "--concurrency", "4", "--every", "4"]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_killed_stream_resumes_to_an_identical_file(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"q{i}"}) + "\n"
                               for i in range(N_PROMPTS)))
    faults = ["--fault-rate", "0.2", "--fault-kinds", "429,500,garbage"]
    server, base_url = _server(tmp_path / "requests.log", "--latency", "0.02", *faults)
    try:
        clean = tmp_path / "clean" / "out.jsonl"
        clean.parent.mkdir()
        done = subprocess.run(_stage(base_url, prompts, clean, tmp_path / "clean.sqlite"),
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        log, out = tmp_path / "requests.log", tmp_path / "out.jsonl"
        before = _lines(log)
        command = _stage(base_url, prompts, out, tmp_path / "cache.sqlite")
        first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while _lines(out) < N_PROMPTS * SAMPLES // 3 and time.time() < deadline:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        checkpoint = json.loads((tmp_path / "out.progress.json").read_text())
        assert 0 < checkpoint["done"] < N_PROMPTS
        sent_first = _lines(log) - before
        second = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert second.returncode == 0, second.stderr
        sent_second = _lines(log) - before - sent_first
    finally:
        server.terminate()
        server.wait()
    assert out.read_bytes() == clean.read_bytes()
    assert _lines(out) == N_PROMPTS * SAMPLES and not (tmp_path / "out.failures.jsonl").read_text()
    assert not (tmp_path / "out.progress.json").exists()
    # what the first run had answered was cached: the second sent about the rest, not all again
    assert sent_second < N_PROMPTS * SAMPLES * 1.5 - checkpoint["done"] * SAMPLES
