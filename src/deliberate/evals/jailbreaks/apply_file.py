"""Applying jailbreaks to a file of prompts (the library side of ``deliberate jailbreak apply``).

Why: to attack another model or system with exactly the prompts our evals send (and with the
official StrongREJECT wording), without running an eval. One JSON line per (prompt, jailbreak):
``{"forbidden_prompt", "jailbreak", "jailbroken_prompt"}``, prompts in file order, jailbreaks in
selection order. The output is written atomically: a failure leaves no partial file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from deliberate.errors import DeliberateError, InputFileError
from deliberate.evals.jailbreaks.names import jailbreak_names
from deliberate.evals.jailbreaks.registry import apply_jailbreak
from deliberate.records.jsonl import write_lines_atomic
from deliberate.records.sources import iter_file_rows


def _read_prompts(path: Path, prompt_col: str) -> list[str]:
    """The ``prompt_col`` text of every row; InputFileError with file:line on a bad row."""
    prompts = []
    for line, row in iter_file_rows(path):
        if prompt_col not in row:
            raise InputFileError(
                path, f"no {prompt_col!r} column (have: {', '.join(map(str, row))})", line
            )
        value = row[prompt_col]
        if not isinstance(value, str) or not value.strip():
            raise InputFileError(path, f"{prompt_col!r} must be non-empty text", line)
        prompts.append(value)
    if not prompts:
        raise InputFileError(path, "no prompts in the file")
    return prompts


def apply_to_file(
    names: str | Sequence[str],
    input_path: str | Path,
    out_path: str | Path,
    *,
    prompt_col: str = "forbidden_prompt",
    assets_dir: str | Path | None = None,
    seed: int = 0,
) -> int:
    """Write every selected jailbreak of every prompt in ``input_path`` to ``out_path``.

    ``names``: a selection (``"official"``, ``"rot_13,bon:2"``) or a list of names. The input is
    CSV/TSV/JSONL/Parquet with a ``prompt_col`` column. Returns the number of lines written.
    DeliberateError for an unknown name, InputFileError (file:line) for a bad input row.
    """
    spec = names if isinstance(names, str) else ",".join(names)
    try:
        selected = jailbreak_names(spec)
    except ValueError as exc:
        raise DeliberateError(str(exc)) from None
    prompts = _read_prompts(Path(input_path), prompt_col)
    lines = [
        json.dumps({
            "forbidden_prompt": prompt,
            "jailbreak": name,
            "jailbroken_prompt": apply_jailbreak(name, prompt, seed=seed, assets_dir=assets_dir),
        }, ensure_ascii=False) + "\n"
        for prompt in prompts
        for name in selected
    ]
    write_lines_atomic(out_path, lines)
    return len(lines)
