"""The report repeats what a run's manifest says about comparability with published numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from deliberate.report import build_report

from .test_report import make_run

NOT_COMPARABLE = ("StrongREJECT-style, not comparable: our own rubric prompt, not the official "
                  "one (judge_templates.json not in /nowhere)")


def test_a_run_that_is_not_comparable_says_so_in_the_report(tmp_path: Path) -> None:
    run = make_run(tmp_path, "r", harm=0.3, comply=0.7, seed=1)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["details"]["suites"] = {
        "strongreject": {"comparable": False, "comparability": NOT_COMPARABLE},
        "xstest": {"comparable": True, "comparability": "XSTest (published prompts)"}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    html = build_report([run], tmp_path / "r.html", n_boot=0).read_text(encoding="utf-8")
    assert f"strongreject: {NOT_COMPARABLE}" in html
    assert "XSTest (published prompts)" not in html  # only the caveats are notes
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "not comparable: our own rubric prompt" in markdown
