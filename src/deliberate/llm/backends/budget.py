"""A cap on reasoning tokens for local ``transformers`` models (``--reasoning-budget N``).

Generation runs in two passes over a batch:

1. up to ``N`` new tokens, stopping a row early at ``</think>`` (or end of turn);
2. every row that is not finished continues to ``max_tokens`` in all. A row whose reasoning is
   still open after ``N`` tokens first gets ``"\\n</think>\\n\\n"`` appended, so it must answer
   now (the budget-forcing of s1, Muennighoff et al. 2025). A row that closed its reasoning in
   time, or never opened one (a model that does not reason in ``<think>`` tags), continues
   unchanged. With ``N = 0`` the first pass is skipped and an empty ``<think></think>`` block is
   written for the model, as Qwen3's non-thinking mode does.

The ``N`` tokens count every generated token of the first pass, the ``<think>`` tag included; the
forced closing tokens are not the model's and do not count toward ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

CLOSE = "\n</think>\n\n"
EMPTY_THINK = "<think>\n\n</think>\n\n"

Generate = Callable[[Any, Any, int, Sequence[str] | None], Any]
"""(input_ids, attention_mask, max_new_tokens, stop strings) -> output ids (prompt + new)."""


class BudgetRow(NamedTuple):
    """One row's new tokens: the model's, the forced ones, and whether it ended by itself."""

    tokens: list[int]
    forced: int  # how many of ``tokens`` were written for the model
    ended: bool  # end of turn (or a stop string) reached, not the length limit


def _cut(new: Sequence[int], eos: set[int], pad: int | None) -> tuple[list[int], bool]:
    """New tokens up to the first end-of-turn token (dropped), trailing padding removed."""
    out = []
    for token in new:
        if token in eos:
            return out, True
        out.append(int(token))
    while out and pad is not None and out[-1] == pad:
        out.pop()
    return out, False


def _pad_left(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    import torch

    width = max(map(len, rows))
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


def _forced(text: str, prompt: str, budget: int, tokenizer: Any, stops: Sequence[str]) -> list[int] | None:
    """The tokens to append after the first pass: None when the row is finished."""
    if any(s in text for s in stops):
        return None  # a caller's stop string ended the reply
    opened = "<think>" in text or prompt.rstrip().endswith("<think>")
    if "</think>" in text or prompt.rstrip().endswith("</think>") or (budget > 0 and not opened):
        return []  # reasoning closed (in time, or by the template), or none: continue as is
    close = CLOSE if opened else EMPTY_THINK
    return list(tokenizer(close, add_special_tokens=False)["input_ids"])


def generate_with_budget(generate: Generate, tokenizer: Any, inputs: Any, prompts: Sequence[str],
                         budget: int, max_tokens: int, stop: Sequence[str] | None,
                         eos: Sequence[int]) -> list[BudgetRow]:
    """The new tokens of every row, reasoning capped at ``budget`` tokens (see the module doc)."""
    from deliberate.llm.backends.hf import decode_keeping_think

    ends, pad = set(eos), tokenizer.pad_token_id
    heads = [[int(t) for t, m in zip(ids, mask) if m] for ids, mask in
             zip(inputs["input_ids"].tolist(), inputs["attention_mask"].tolist())]
    first = min(budget, max_tokens)
    if first > 0:
        out = generate(inputs["input_ids"], inputs["attention_mask"], first, ["</think>", *(stop or [])])
        width = inputs["input_ids"].shape[1]
        cuts = [_cut(row[width:], ends, pad) for row in out.tolist()]
    else:
        cuts = [([], False)] * len(heads)
    rows, todo = [], []
    for i, ((new, ended), prompt) in enumerate(zip(cuts, prompts)):
        text = decode_keeping_think(tokenizer, new)
        forced = None if ended or len(new) >= max_tokens else _forced(text, prompt, budget, tokenizer, stop or [])
        rows.append(BudgetRow(new + (forced or []), len(forced or []), ended or (
            forced is None and len(new) < max_tokens)))
        if forced is not None:
            todo.append(i)
    if todo:
        _continue(generate, rows, todo, heads, max_tokens, stop, ends, pad)
    return rows


def _continue(generate: Generate, rows: list[BudgetRow], todo: list[int], heads: list[list[int]],
              max_tokens: int, stop: Sequence[str] | None, ends: set[int], pad: int | None) -> None:
    """Second pass: the unfinished rows continue, each to ``max_tokens`` of its own."""
    room = {i: max_tokens - (len(rows[i].tokens) - rows[i].forced) for i in todo}
    ids, mask = _pad_left([heads[i] + rows[i].tokens for i in todo], pad if pad is not None else 0)
    out = generate(ids, mask, max(room.values()), stop)
    for i, row in zip(todo, out.tolist()):
        more, _ = _cut(row[ids.shape[1]:], ends, pad)
        # shorter than its room: end of turn or a stop string, not the length limit
        rows[i] = BudgetRow(rows[i].tokens + more[:room[i]], rows[i].forced, len(more) < room[i])
