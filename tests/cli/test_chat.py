"""``deliberate chat`` through the installed console script: a backend error is one line and
the session goes on, with its history intact."""

from __future__ import annotations

import os
import subprocess
import sys

from support.loopback import LoopbackServer, Reply

SCRIPT = sys.executable.rsplit("/", 1)[0] + "/deliberate"


def chat(base_url: str, typed: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, "chat", "openai/m", "--base-url", base_url, "--max-attempts", "1",
                           "--no-cache"], input=typed, capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, "OPENAI_API_KEY": "sk-chat-secret"})


def test_a_backend_error_is_one_line_and_the_chat_goes_on():
    asked: list[list[str]] = []

    def responder(body):
        asked.append([m["content"] for m in body["messages"]])
        if len(asked) == 1:
            return Reply("backend exploded", status=400)
        return f"answer {len(asked)}"

    with LoopbackServer(responder) as server:
        done = chat(server.base_url, "hello\nagain\nthird\n/quit\n")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    errors = [line for line in done.stdout.splitlines() if "error:" in line]
    assert len(errors) == 1 and "HTTP 400" in errors[0] and "backend exploded" in errors[0]
    assert "answer 2" in done.stdout and "answer 3" in done.stdout  # every later turn answered
    # the failed turn is not in the history; the answered ones are
    assert asked[1:] == [["again"], ["again", "answer 2", "third"]]


def test_an_unreachable_server_is_one_line_per_turn():
    done = chat("http://127.0.0.1:9/v1", "hello\nagain\n")  # ends at end of input
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr
    errors = [line for line in done.stdout.splitlines() if "error:" in line]
    assert len(errors) == 2, done.stdout
    assert all("connection refused by http://127.0.0.1:9/v1" in e and e.endswith("running?)")
               for e in errors)  # the whole message on its line, not wrapped at 80 columns
