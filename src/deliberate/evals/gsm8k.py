"""GSM8K (Cobbe et al. 2021): grade-school maths word problems with worked solutions.

Each row is ``{"question", "answer"}``; the answer is a worked solution (with calculator
annotations such as ``<<16-3-4=9>>``) whose last line is ``#### <number>``. Used twice: the
``capability`` eval suite grades a model's final number on the test set, and SFT mixes the train
set's solutions in as chains of thought (:mod:`deliberate.train.capability_mix`).

Answer extraction (the model's reasoning is never read): the first number after the last
``####`` on its line if there is one, else the last number in the answer. Numbers are normalised (``$``, thousands
commas and a trailing full stop dropped, ``18.0`` is ``18``) and compared as decimals.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from deliberate.errors import DeliberateError, InputFileError
from deliberate.evals.public_data import GSM8K_TEST, GSM8K_TRAIN, DataSource, PublicData, resolve

MARKER = "####"
# a minus sign right before the digits, not after a word or ")": "-5" but not "16-3" or "x-3"
NUMBER = re.compile(r"(?:(?<![\w)])-)?\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
CALCULATOR = re.compile(r"<<[^<>]*>>")
SPLITS: dict[str, PublicData] = {"test": GSM8K_TEST, "train": GSM8K_TRAIN}


class Problem(NamedTuple):
    """One GSM8K problem: its id, question, worked solution (before ``####``) and final number."""

    id: str
    question: str
    solution: str
    final: str


class Extraction(NamedTuple):
    """The number taken from an answer, and how: ``####``, ``last_number`` or ``none``."""

    value: str | None
    how: str


def normalize_number(text: str) -> str | None:
    """``"$1,080.00"`` -> ``"1080"``; ``"-3.50"`` -> ``"-3.5"``; None if it is no number."""
    cleaned = re.sub(r"[\s$,]", "", text).rstrip(".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def extract_answer(answer: str) -> Extraction:
    """The first number after the last ``####`` (on its line), else the last number in ``answer``."""
    if MARKER in answer:
        match = NUMBER.search(answer.rsplit(MARKER, 1)[1].split("\n", 1)[0])
        if match and (value := normalize_number(match.group())) is not None:
            return Extraction(value, MARKER)
    numbers = [v for m in NUMBER.finditer(answer) if (v := normalize_number(m.group())) is not None]
    return Extraction(numbers[-1], "last_number") if numbers else Extraction(None, "none")


def same_number(a: str | None, b: str | None) -> bool:
    """Two normalised numbers are equal as decimals (None equals nothing)."""
    if a is None or b is None:
        return False
    return Decimal(a) == Decimal(b)


def split_solution(answer: str) -> tuple[str, str | None]:
    """A GSM8K answer -> (worked solution without calculator annotations, final number)."""
    if MARKER not in answer:
        return answer.strip(), None
    solution, final = answer.rsplit(MARKER, 1)
    return CALCULATOR.sub("", solution).strip(), normalize_number(final.strip())


def gsm8k_source(split: str, source: str | Path | None = None) -> DataSource:
    """The file of ``split`` to read: ``source`` as it is (hashed), else the pinned public copy."""
    if source is not None and str(source).startswith("hf:"):
        raise DeliberateError(f"{source}: GSM8K is read from a JSONL file with question/answer "
                              "columns (hf: sources are not supported); pass a local copy")
    return resolve(SPLITS[split], source)


def load_gsm8k(split: str, source: str | Path | None = None) -> list[Problem]:
    """Every problem of ``split`` (``source``, else the pinned public file)."""
    return read_gsm8k(gsm8k_source(split, source).path, split)


def read_gsm8k(path: str | Path, split: str) -> list[Problem]:
    """Every problem of a GSM8K file; a row without a question or a ``#### <number>`` is an error."""
    from deliberate.records.sources import iter_file_rows

    path = Path(path)
    problems: list[Problem] = []
    for line, row in iter_file_rows(path):
        question, answer = row.get("question"), row.get("answer")
        if not isinstance(question, str) or not isinstance(answer, str) or not question.strip():
            raise InputFileError(path, "a GSM8K row needs 'question' and 'answer' text", line)
        solution, final = split_solution(answer)
        if final is None:
            raise InputFileError(path, "the answer does not end with '#### <number>'", line)
        ident = str(row.get("id") or f"gsm8k-{split}-{line}")
        problems.append(Problem(ident, question.strip(), solution, final))
    if not problems:
        raise InputFileError(path, "no GSM8K problems found (empty file)")
    return problems


def is_gsm8k_file(path: str | Path) -> bool:
    """A JSONL file whose first row has ``question`` and ``answer`` columns and no ``messages``."""
    import json

    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        return False
    with path.open(encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "")
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(row, dict) and {"question", "answer"} <= set(row) and "messages" not in row
