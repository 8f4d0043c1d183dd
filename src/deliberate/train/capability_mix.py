"""The capability mix of SFT: reasoning data trained alongside the safety set, by default.

Safety SFT rows are narrow (requests near the policy, answers that cite it); trained on alone,
a model drifts toward that style everywhere and loses some of its general reasoning. So by
default a share of the training set (``mix_ratio``, 0.2) is GSM8K: each train problem becomes
one SFT row, the question as the user turn, its worked solution (calculator annotations
``<<...>>`` removed) as the chain of thought in ``reasoning_content``, and the final number as
the answer ("The answer is 18."). The question goes out bare, without the capability eval's
"#### <number>" instruction, so the mix teaches reasoning, not the eval's answer format.

``mix_dataset``:

* ``gsm8k`` (default): the public train set, downloaded once and checked by sha256
  (:mod:`deliberate.evals.public_data`);
* a local JSONL with ``question``/``answer`` columns (a GSM8K copy): detected, converted alike;
* anything else: general chat data with a ``messages`` column (JSONL or ``hf:NAME[:SPLIT]``).

Offline, with no cached copy and no local file, the run stops with an error naming
``--mix_dataset PATH`` and ``--mix_ratio 0``: training without the mix would change the recipe,
and a warning scrolls away in a training log, so it is never a silent (or loud) fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliberate.errors import DeliberateError

if TYPE_CHECKING:
    from deliberate.evals.gsm8k import Problem

GSM8K = "gsm8k"
DEFAULT_MIX_RATIO = 0.2
Message = dict[str, Any]


def gsm8k_rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """GSM8K problems as rows of the SFT format (the CoT in ``reasoning_content``)."""
    return [{"messages": [{"role": "user", "content": p.question},
                          {"role": "assistant", "content": f"The answer is {p.final}.",
                           "reasoning_content": p.solution}],
             "prompt_id": p.id}
            for p in problems]


def _gsm8k(dataset: str) -> tuple[list[list[Message]], dict[str, Any]]:
    from deliberate.evals.gsm8k import gsm8k_source, read_gsm8k
    from deliberate.train.data import normalize_message

    try:
        source = gsm8k_source("train", None if dataset == GSM8K else dataset)
        rows = gsm8k_rows(read_gsm8k(source.path, "train"))
    except DeliberateError as exc:
        raise DeliberateError(f"SFT's capability mix (mix_dataset={dataset}, on by default) cannot be "
                              f"read: {exc}; or pass --mix_ratio 0 to train without it") from None
    conversations = [[normalize_message(m) for m in row["messages"]] for row in rows]
    return conversations, {"dataset": dataset, "format": "gsm8k", "source": source.manifest()}


def load_mix(dataset: str | None, ratio: float) -> tuple[list[list[Message]], dict[str, Any]]:
    """The mix conversations and the manifest's ``details.mix`` (nothing is read at ratio 0)."""
    from deliberate.evals.gsm8k import is_gsm8k_file
    from deliberate.train.data import load_conversations

    if ratio <= 0 or not dataset:
        return [], {"dataset": None, "ratio": 0.0}
    if dataset == GSM8K or is_gsm8k_file(dataset):
        conversations, details = _gsm8k(dataset)
    else:
        conversations, details = load_conversations(dataset), {"dataset": dataset, "format": "chat"}
    return conversations, {**details, "ratio": ratio}
