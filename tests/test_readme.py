"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert first_block, "README must open with a bash block of set-up commands"
    return [l for l in first_block.group(1).splitlines() if l and not l.startswith("#")]


def test_readme_opens_with_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "pytest" in commands[1]


def test_ci_runs_readme_commands_verbatim():
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    for command in readme_commands():
        assert command in ci_lines, f".ci/run does not run: {command}"
