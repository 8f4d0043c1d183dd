"""Backend option defaults: what a user gets without flags, what ``--help`` and the README say."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from deliberate.cli.app import cli
from deliberate.cli.common import backend
from deliberate.llm import BackendOptions

README = Path(__file__).resolve().parents[2] / "README.md"


def test_default_timeout_and_request_budget_agree_with_help_and_readme():
    assert BackendOptions().timeout == 300 and BackendOptions().request_budget == 600
    # a command given no backend flags gets the same values
    options = backend({}, {})
    assert (options.timeout, options.request_budget) == (300, 600)
    help_text = " ".join(CliRunner().invoke(cli, ["sample", "--help"]).output.split())
    shown = dict(re.findall(r"(--[a-z-]+) FLOAT [^\[]*\[default: ([\d.]+)\]", help_text))
    assert shown["--timeout"] == "300.0" and shown["--request-budget"] == "600.0"
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "`--timeout` (300 s) is a deadline for a whole attempt" in readme
    assert "`--request-budget` (600 s) bounds all attempts of one request" in readme
