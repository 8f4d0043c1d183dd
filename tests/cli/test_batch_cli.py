"""``--batch``, ``--batch-export`` and ``--batch-import`` on label, generate and judge, against
the loopback server's Files and Batches endpoints: the same records as a live run, re-asks in a
further round, a killed run resuming the same batch, failed lines, and the file round trip."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.loopback import FaultPlan, LoopbackServer, scripted

from deliberate.cli.app import main

SCRIPT = Path(sys.executable).with_name("deliberate")
SRC = str(Path(__file__).parents[2] / "src")
FAST = ["--quiet", "--batch-poll", "0.05"]


def teacher(body):
    question = body["messages"][-1]["content"]
    return f"<think>Benign; style.compliance. {question}</think>Answer to {question}"


def labeler(body):
    return '{"categories": ["none"]}'


def judge(body):
    return json.dumps({"score": 8, "criteria": {"mode": 8}})


RESPONDERS = {"teacher": teacher, "labeler": labeler, "judge": judge}


def _prompts(tmp_path, n, *, category=True):
    path = tmp_path / "prompts.jsonl"
    rows = [{"id": f"p{i}", "prompt": f"question {i}", **({"category": ["none"]} if category else {})}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _generate(prompts, out, server, cache, *extra):
    return ["generate", "--prompts", str(prompts), "--teacher", "openai/teacher", "--samples", "2",
            "--out", str(out), "--base-url", server.base_url, "--cache", str(cache), *extra]


def _script(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          check=False, env=env, **kwargs)


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_generate_batch_through_the_console_script_matches_a_live_run(tmp_path):
    prompts = _prompts(tmp_path, 12)
    with LoopbackServer(scripted(RESPONDERS), batch_delay=0.2) as server:
        assert main([*_generate(prompts, tmp_path / "live.jsonl", server, tmp_path / "a.sqlite"),
                     "--quiet"]) == 0
        live_calls = server.received
        done = _script([*_generate(prompts, tmp_path / "b.jsonl", server, tmp_path / "b.sqlite"),
                        "--batch", *FAST])
        assert done.returncode == 0, done.stderr
        assert server.received == live_calls  # no chat call: everything went by the batch
        assert (server.batch.uploads, server.batch.created) == (1, 1)
    assert _lines(tmp_path / "b.jsonl") == _lines(tmp_path / "live.jsonl")
    assert len(_lines(tmp_path / "b.jsonl")) == 24
    state = json.loads((tmp_path / "b.jsonl.batch" / "round-001" / "batch.json").read_text())
    assert state["parts"][0]["requests"] == 24 and state["parts"][0]["imported"]
    usage = json.loads((tmp_path / "b.usage.json").read_text())["models"]["openai/teacher"]
    assert (usage["requests"], usage["sent"], usage["from_cache"]) == (24, 24, 0)


def test_label_and_judge_with_batch_match_live_runs(tmp_path):
    prompts = _prompts(tmp_path, 6, category=False)
    live, batch = tmp_path / "live", tmp_path / "batch"
    with LoopbackServer(scripted(RESPONDERS)) as server:
        for folder, extra in ((live, []), (batch, ["--batch", *FAST])):
            folder.mkdir()
            common = ["--base-url", server.base_url, "--cache", str(folder / "c.sqlite"), "--quiet"]
            assert main(["label", "--prompts", str(prompts), "--labeler", "openai/labeler",
                         "--out", str(folder / "l.jsonl"), *common, *extra]) == 0
            assert main(["generate", "--prompts", str(folder / "l.jsonl"), "--teacher",
                         "openai/teacher", "--samples", "1", "--out", str(folder / "g.jsonl"),
                         *common]) == 0
            assert main(["judge", "--generations", str(folder / "g.jsonl"), "--judge",
                         "openai/judge", "--judge-k", "2", "--out", str(folder / "j.jsonl"),
                         *common, *extra]) == 0
        assert server.batch.created == 2  # one label batch, one judge batch
    for name in ("l.jsonl", "j.jsonl"):
        assert _lines(batch / name) == _lines(live / name)
    assert [r["score"] for r in _lines(batch / "j.jsonl")] == [8] * 6


def test_a_reply_that_does_not_parse_is_asked_again_in_a_second_round(tmp_path):
    seen: dict[str, int] = {}

    def moody_labeler(body):  # each prompt's first answer is not JSON
        text = body["messages"][-1]["content"]
        seen[text] = seen.get(text, 0) + 1
        return "I think it is fine." if seen[text] == 1 else '{"categories": ["none"]}'

    prompts = _prompts(tmp_path, 5, category=False)
    out = tmp_path / "l.jsonl"
    with LoopbackServer(scripted({"labeler": moody_labeler})) as server:
        code = main(["label", "--prompts", str(prompts), "--labeler", "openai/labeler", "--out",
                     str(out), "--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite"),
                     "--batch", *FAST])
        assert code == 0
        assert server.batch.created == 2 and server.received == 0
    assert [r["category"] for r in _lines(out)] == [["none"]] * 5
    assert sorted(p.name for p in (tmp_path / "l.jsonl.batch").iterdir()) == ["round-001", "round-002"]


@pytest.mark.parametrize("stop, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)])
def test_a_killed_run_resumes_the_same_batch(tmp_path, stop, code):
    prompts, out = _prompts(tmp_path, 10), tmp_path / "g.jsonl"
    with LoopbackServer(scripted(RESPONDERS), batch_delay=3.0) as server:
        args = [*_generate(prompts, out, server, tmp_path / "c.sqlite"), "--batch", *FAST]
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        first = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env)
        deadline = time.time() + 90
        while server.batch.polls < 2 and time.time() < deadline and first.poll() is None:
            time.sleep(0.02)
        os.kill(first.pid, stop)
        assert first.wait(timeout=60) == code  # SIGINT: Ctrl-C, exit 130
        assert server.batch.created == 1 and not out.exists()
        state = tmp_path / "g.jsonl.batch" / "round-001" / "batch.json"
        batch_id = json.loads(state.read_text())["parts"][0]["batch_id"]
        second = _script(args)
        assert second.returncode == 0, second.stderr
        assert (server.batch.uploads, server.batch.created) == (1, 1)  # polled, not resubmitted
        assert json.loads(state.read_text())["parts"][0]["batch_id"] == batch_id
        assert server.received == 0
    assert len(_lines(out)) == 20


@pytest.mark.parametrize("tries", [1, 3])
def test_failed_batch_lines_are_asked_again_or_recorded(tmp_path, tries):
    prompts, out = _prompts(tmp_path, 20), tmp_path / "g.jsonl"
    with LoopbackServer(scripted(RESPONDERS), faults=FaultPlan(rate=0.2, seed=5)) as server:
        code = main([*_generate(prompts, out, server, tmp_path / "c.sqlite"), "--batch", *FAST,
                     "--batch-tries", str(tries)])
        created, injected = server.batch.created, server.faults_injected["batch"]
        assert server.received == 0
    failures = _lines(tmp_path / "g.failures.jsonl") if (tmp_path / "g.failures.jsonl").exists() else []
    records = _lines(out)
    assert injected > 0 and len(records) + len(failures) == 40
    assert all("not answered by the batch" in f["error"] and "HTTP 500" in f["error"]
               for f in failures)
    assert code == (3 if len(failures) / 40 > 0.1 else 0)
    if tries == 1:
        assert created == 1 and len(failures) == injected
    else:
        assert created >= 2 and len(failures) < injected  # failed lines went out again


def _run_batch_like_vllm(server, part, output):
    """What ``vllm run-batch -i part -o output`` writes, answered by the loopback's logic."""
    with open(output, "w") as handle:
        for line in _lines(part):
            status, body = server._batch_answer(line["body"])
            handle.write(json.dumps({"id": f"vllm-{line['custom_id'][:8]}",
                                     "custom_id": line["custom_id"], "error": None,
                                     "response": {"status_code": status, "body": body}}) + "\n")


def test_export_then_import_gives_the_records_of_a_live_run(tmp_path):
    prompts, out = _prompts(tmp_path, 8), tmp_path / "g.jsonl"
    exported, output = tmp_path / "requests.jsonl", tmp_path / "requests.out.jsonl"
    with LoopbackServer(scripted(RESPONDERS)) as server:
        assert main([*_generate(prompts, tmp_path / "live.jsonl", server, tmp_path / "a.sqlite"),
                     "--quiet"]) == 0
        calls = server.received
        args = _generate(prompts, out, server, tmp_path / "b.sqlite")
        done = _script([*args, "--quiet", "--batch-export", str(exported)])
        assert done.returncode == 0, done.stderr
        assert f"vllm run-batch -i {exported} -o {output} --model teacher" in done.stderr
        assert f"--batch-import {output}" in done.stderr and not out.exists()
        assert len(_lines(exported)) == 16
        _run_batch_like_vllm(server, exported, output)
        assert main([*args, "--quiet", "--batch-import", str(output)]) == 0
        assert server.received == calls and server.batch.created == 0
    assert _lines(out) == _lines(tmp_path / "live.jsonl")


def test_import_leaves_unanswered_requests_as_failures_never_sends_them(tmp_path):
    prompts, out = _prompts(tmp_path, 4), tmp_path / "g.jsonl"
    exported, output = tmp_path / "requests.jsonl", tmp_path / "out.jsonl"
    with LoopbackServer(scripted(RESPONDERS)) as server:
        args = [*_generate(prompts, out, server, tmp_path / "c.sqlite"), "--quiet"]
        assert main([*args, "--batch-export", str(exported)]) == 0
        lines = _lines(exported)
        output.write_text(json.dumps({"custom_id": lines[0]["custom_id"], "error": None, "response": {
            "status_code": 200, "body": server._batch_answer(lines[0]["body"])[1]}}) + "\n")
        assert main([*args, "--batch-import", str(output), "--max-failure-rate", "1"]) == 0
        assert server.received == 0
    failures = _lines(tmp_path / "g.failures.jsonl")
    assert len(_lines(out)) == 1 and len(failures) == 7
    assert all(f["error"].startswith("not answered by the batch") for f in failures)


def test_batch_without_the_cache_is_a_usage_error(tmp_path):
    prompts = _prompts(tmp_path, 2)
    done = _script(["generate", "--prompts", str(prompts), "--teacher", "openai/teacher",
                    "--out", str(tmp_path / "g.jsonl"), "--base-url", "http://127.0.0.1:9/v1",
                    "--no-cache", "--batch"])
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--batch" in done.stderr
    assert "cache" in done.stderr and not (tmp_path / "g.jsonl").exists()


@pytest.mark.parametrize("extra, named", [
    (["--batch", "--batch-export", "x.jsonl"], "--batch-export"),
    (["--batch-import", "missing.jsonl"], "missing.jsonl"),
    (["--batch-poll", "0"], "--batch-poll"),
    (["--batch-tries", "0"], "--batch-tries"),
])
def test_batch_usage_errors_name_the_flag(tmp_path, capsys, extra, named):
    prompts = _prompts(tmp_path, 1)
    code = main(["generate", "--prompts", str(prompts), "--teacher", "openai/teacher", "--out",
                 str(tmp_path / "g.jsonl"), "--base-url", "http://127.0.0.1:9/v1", "--quiet",
                 "--cache", str(tmp_path / "c.sqlite"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and named in err


def test_batch_against_a_dead_server_is_exit_3_in_one_line(tmp_path):
    """A Batch API that cannot be reached is a dead server (exit 3, as live), not a usage error."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "hi", "category": ["none"]}\n')
    env = {**os.environ, "OPENAI_API_KEY": "x"}
    done = subprocess.run([str(SCRIPT), "generate", "-p", str(prompts), "-m", "openai/m",
                           "--base-url", "http://127.0.0.1:1/v1", "-o", str(tmp_path / "g.jsonl"),
                           "--batch", "--quiet", "--cache", str(tmp_path / "c.sqlite")],
                          check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: batch API: could not") and "Traceback" not in done.stderr
