"""research/refusal_grader/refusal_agreement.py's LLM-grader column, against a scripted grader on
loopback.

The grader answers each request with the human label of the response it was sent, so any slip in
lining the sampled rows up with their labels shows as agreement below 100 %."""

from __future__ import annotations

import json
import re

from support.loopback import LoopbackServer, scripted

from deliberate.evals.refusal_llm import LABELS
from deliberate.prompts import sections
from research.refusal_grader import refusal_agreement
from research.refusal_grader import training as T


def _response_in(body) -> str:
    """The response a grader request asks about (the template fences it as a response section)."""
    text = body["messages"][-1]["content"]
    return next(s.text for s in sections(text) if s.tag == "response")


def test_grader_sample_measures_n_seeded_rows_per_model(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DELIBERATE_CACHE", str(tmp_path / "cache.sqlite"))
    rows = T.load_xstest(shared_data)
    truth = {r.response: (r.model, LABELS[r.label]) for r in rows}

    def grader(body):
        return json.dumps({"label": truth[_response_in(body)][1]})

    args = ["--data-dir", str(shared_data), "--rules-only", "--grader", "openai/grader",
            "--grader-sample", "4"]
    sampled = []
    for _ in range(2):  # a second run (fresh cache) must ask about the same rows
        (tmp_path / "cache.sqlite").unlink(missing_ok=True)
        with LoopbackServer(scripted({"grader": grader})) as server:
            assert refusal_agreement.main([*args, "--base-url", server.base_url]) == 0
            sampled.append(sorted(_response_in(body) for body in server.requests))
    out = capsys.readouterr().out

    assert sampled[0] == sampled[1]
    per_model = [truth[r][0] for r in sampled[0]]
    assert sorted(per_model) == sorted(T.XSTEST_MODELS * 4)
    assert "4 random rows per model" in out
    for model in T.XSTEST_MODELS:  # the grader's row: 100.0 binary and 3-class, no nor difference
        line = next(l for l in out.splitlines() if l.startswith(model) and " grader " in l)
        assert re.search(r"\s100\.0\s+100\.0\s+[\d.]+\s+[\d.]+\s+[+-]0\.000\s+met$", line), line

