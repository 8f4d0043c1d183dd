"""The demo's data: the shipped seed set as SFT rows and eval prompt files, public samples.

Training rows are fitted to the demo's sequence length: a seed longer than ``max_length``
tokens keeps its whole chain of thought and as many whole sentences of its answer as fit (or the
first sentence's words that fit), so every row ends its turn and the model learns to stop, and no
seed is left out (leaving out the long ones would leave mostly the short refusals).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deliberate.llm.backends.chat_templates import fallback_chat_template

if TYPE_CHECKING:
    from deliberate.pipeline.demo import DemoSettings

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MODE_LINE = re.compile(r"\n?Response mode:.*$", re.DOTALL)


def compact_reasoning(reasoning: str, max_sentences: int) -> str:
    """The reasoning's sentences that cite a rule (at most ``max_sentences``, in order), then its
    ``Response mode:`` line; the whole reasoning when no sentence cites.

    A 270M student sees a few dozen rows in the demo's budget; the deliberation around the
    citations is what it cannot learn in that time, the citation and the mode are what it can.
    """
    from deliberate.spec.checks import cited_ids

    mode = _MODE_LINE.search(reasoning)
    body = reasoning[:mode.start()] if mode else reasoning
    citing = [s for s in _SENTENCE_END.split(body.strip()) if cited_ids(s)][:max_sentences]
    if not citing:
        return reasoning
    return " ".join(citing) + (mode.group(0) if mode else "")


def lead_with_rules(reasoning: str, max_ids: int = 3) -> str:
    """The reasoning with a first line naming the rules it cites (``Rules: erotic.1,
    style.compliance.``); unchanged when it cites none.

    A small student picks up what sits at a fixed place in every row long before what is spread
    through it: a leading line teaches it to recall the deciding rule ids first, and the rest of
    the chain of thought then reads as reasoning from them.
    """
    from deliberate.spec.checks import cited_ids

    ids = cited_ids(reasoning)[:max_ids]
    return f"Rules: {', '.join(ids)}.\n{reasoning}" if ids else reasoning


def oversample_mode(seeds: list[dict[str, Any]], mode: str, share: float | None) -> list[dict[str, Any]]:
    """``seeds`` with the ones of ``mode`` repeated (in turn) until they make up ``share`` of all.

    About half of the seed set's training split opens its answer with a refusal (refuse and
    safe-complete seeds); a student that sees few rows learns that opening as the default.
    Repeating the comply seeds keeps "answer" the default and "refuse" the exception.
    """
    picked = [s for s in seeds if s["expected_mode"] == mode]
    if not share or not picked:
        return seeds
    out, have = list(seeds), len(picked)
    for i in range(len(seeds) * 4):  # a bound: a share of 1 is never reached
        if have >= share * len(out):
            break
        out.append(picked[i % len(picked)])
        have += 1
    return out


def seed_examples() -> list[dict[str, Any]]:
    """The shipped seed set: prompt (and an operator ``system`` turn where one applies), reasoning
    citing default-spec rules and ending in a ``Response mode:`` line, answer, split, and the
    deciding ``rule`` where one rule decides."""
    text = (resources.files("deliberate") / "data" / "seed_examples.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def seed_turns(seed: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation a seed's answer replies to: the operator's system turn, if the seed has
    one, then the user's prompt."""
    system = [{"role": "system", "content": seed["system"]}] if seed.get("system") else []
    return [*system, {"role": "user", "content": seed["prompt"]}]


def fit_seed(seed: dict[str, Any], tokenizer: Any, max_length: int) -> dict[str, Any]:
    """The seed with its answer cut so the whole row, rendered by the chat template, fits
    ``max_length`` tokens and still ends its turn: whole sentences while they fit, else the
    first sentence's words that fit and an ellipsis. Only a row whose prompt and reasoning
    alone fill ``max_length`` keeps its first sentence for the trainer to truncate.

    A row cut by the trainer loses its end-of-turn token, and a student that never sees that
    token never learns to stop (measured: at 96 tokens three rows in four lost it).
    """
    if tokenizer is None:
        return seed
    from deliberate.train.data import render

    template = getattr(tokenizer, "chat_template", None) or fallback_chat_template(tokenizer)

    def fits(answer: str) -> bool:
        row = [*seed_turns(seed), {"role": "assistant", "content": answer,
                                   "reasoning_content": seed["reasoning"]}]
        return len(tokenizer(render(tokenizer, template, row), add_special_tokens=False)["input_ids"]) <= max_length

    sentences = _SENTENCE_END.split(seed["answer"].strip())
    kept: list[str] = []
    for sentence in sentences:
        if not fits(" ".join([*kept, sentence])):
            break
        kept.append(sentence)
    if kept:
        return {**seed, "answer": " ".join(kept)}
    first = sentences[0]
    ends = [word.end() for word in re.finditer(r"\S+", first)][:-1]
    cut = next((end for end in reversed(ends) if fits(first[:end] + " …")), 0)
    return {**seed, "answer": first[:cut] + " …" if cut else first}


def sft_rows(seeds: list[dict[str, Any]], tokenizer: Any, max_length: int,
             compact: int | None = None, lead_rules: bool = False) -> list[dict[str, Any]]:
    """Chat rows (system?, user, assistant with ``reasoning_content``), fitted to ``max_length``;
    ``compact``: the reasoning cut to its first ``compact`` citing sentences and its mode line;
    ``lead_rules``: the reasoning opens with a line naming the rules it cites."""
    rows = []
    for seed in seeds:
        if compact:
            seed = {**seed, "reasoning": compact_reasoning(seed["reasoning"], compact)}
        if lead_rules:
            seed = {**seed, "reasoning": lead_with_rules(seed["reasoning"])}
        fitted = fit_seed(seed, tokenizer, max_length)
        assistant = {"role": "assistant", "content": fitted["answer"], "reasoning_content": fitted["reasoning"]}
        rows.append({"messages": [*seed_turns(fitted), assistant], "prompt_id": seed["id"]})
    return rows


def write_demo_data(out: Path, settings: DemoSettings, data_dir: Path | None,
                    tokenizer: Any = None) -> dict[str, Path | None]:
    """SFT file from the train split (fitted to ``settings.max_length`` when a ``tokenizer`` is
    given); eval prompt files from the held-out split and the shared public data."""
    from deliberate.records.jsonl import write_jsonl
    from deliberate.records.prompt import PromptRecord
    from deliberate.records.sources import subsample

    seeds = seed_examples()
    train = [s for s in seeds if s["split"] == "train"]
    held_out = [s for s in seeds if s["split"] == "eval"]
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    sft = data / "sft_train.jsonl"
    train = oversample_mode(train, "comply", settings.comply_share)
    rows = sft_rows(train, tokenizer, settings.max_length, settings.compact_reasoning, settings.lead_rules)
    sft.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    prompts = [PromptRecord(id=s["id"], prompt=s["prompt"], category=s["category"],
                            expected_mode=s["expected_mode"], source="seed",
                            messages=seed_turns(s) if s.get("system") else None,
                            metadata={"rule": s["rule"]} if s.get("rule") else {})
               for s in held_out]
    spec_eval = data / "spec_eval.jsonl"
    write_jsonl(spec_eval, subsample(prompts, settings.seed_eval))
    files: dict[str, Path | None] = {"sft": sft, "spec": spec_eval, "xstest": None, "strongreject": None,
                                     "capability": None, "mix": None}
    xstest = data_dir / "xstest" / "xstest_prompts.csv" if data_dir else None
    if xstest is not None and xstest.exists():
        files["xstest"] = _csv_sample(xstest, data / "xstest_safe.csv", settings.xstest,
                                      keep=lambda row: row["label"] == "safe")
    strongreject = data_dir / "strongreject" / "strongreject_dataset.csv" if data_dir else None
    if strongreject is not None and strongreject.exists():
        files["strongreject"] = _csv_sample(strongreject, data / "strongreject_sample.csv",
                                            settings.strongreject)
    gsm8k = data_dir / "capability" / "gsm8k" if data_dir else None
    if gsm8k is not None and (gsm8k / "test.jsonl").exists() and settings.capability:
        lines = (gsm8k / "test.jsonl").read_text(encoding="utf-8").splitlines()
        picked = [lines[i * len(lines) // settings.capability] for i in range(settings.capability)]
        files["capability"] = data / "gsm8k_sample.jsonl"
        files["capability"].write_text("\n".join(picked) + "\n", encoding="utf-8")
    if gsm8k is not None and (gsm8k / "train.jsonl").exists():
        files["mix"] = gsm8k / "train.jsonl"  # read in place by the SFT mix, never copied
    return files


def _csv_sample(source: Path, target: Path, n: int, keep: Any = None) -> Path:
    """``n`` rows spread evenly over ``source`` (so every XSTest type / StrongREJECT category
    shows up), with its header; a public file is read in place and only the sample is written."""
    import csv

    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if keep is None or keep(r)]
    picked = [rows[i * len(rows) // n] for i in range(min(n, len(rows)))]
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(picked)
    return target


def find_data_dir(explicit: Path | None) -> Path | None:
    """``--data-dir``, else ``$DELIBERATE_DATA_DIR``, else ``../shared/data`` from here or the repo.

    A folder the user named (flag or variable) must exist: the demo stops rather than read
    another one in its place.
    """
    import os

    from deliberate.errors import DeliberateError

    env = os.environ.get("DELIBERATE_DATA_DIR")
    named = [(explicit, "--data-dir"), (Path(env) if env else None, "$DELIBERATE_DATA_DIR")]
    for folder, source in named:
        if folder is not None:
            if not folder.is_dir():
                raise DeliberateError(f"{source} {folder}: no such folder")
            return folder
    candidates = [Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3] / "shared" / "data"]
    return next((c for c in candidates if c.exists()), None)
