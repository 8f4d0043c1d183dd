"""GRPO reward functions, TRL-style: ``(prompts, completions, **kwargs) -> list[float | None]``.

Extra dataset columns (``category``, ``expected_mode``) arrive as keyword arguments; settings
(spec, judge, tokenizer) are bound with ``functools.partial``, whose name TRL logs as
``rewards/<name>/mean``. ``None`` means "no reward from this function for this completion"
(TRL ignores it in the weighted sum).

The chain of thought is never graded, as in deliberative alignment's RL stage: the judge sees the
conversation and the final answer only, so the model is not pushed to write reasoning that pleases
a judge. To make that hold even when a tokenizer marks ``<think>`` as a special token (TRL decodes
completions with ``skip_special_tokens=True``, which would erase the boundary and hand the whole
CoT to the judge as "answer"), completions are re-decoded from their token ids keeping the tags.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from deliberate.llm.reasoning import SplitReply, split_reasoning
from deliberate.llm.types import ChatMessage, ReasoningFormat
from deliberate.train.data import REASONING_KEYS

WELL_FORMED = (ReasoningFormat.think_tags, ReasoningFormat.field, ReasoningFormat.harmony)
MODE_LABELS = {
    "refuse": ("refusal",),
    "comply": ("compliance",),
    "safe_complete": ("compliance", "partial_refusal"),
}


def split_completion(
    completion: Any,
    completion_ids: Sequence[int] | None = None,
    *,
    tokenizer: Any = None,
    think_prefilled: bool = False,
) -> SplitReply:
    """Reasoning and answer of one completion (text or ``[{"role": "assistant", ...}]``).

    Args:
        completion_ids: the generated tokens; with ``tokenizer`` they are decoded again keeping
            ``<think>``/``</think>`` even where those are special tokens.
        think_prefilled: the chat template's generation prompt already opened ``<think>``, so
            the completion starts inside the reasoning.
    """
    message = completion[-1] if isinstance(completion, list) else {"content": completion}
    text = message.get("content") or ""
    if tokenizer is not None and completion_ids is not None:
        from deliberate.llm.backends.hf import decode_keeping_think

        text = decode_keeping_think(tokenizer, completion_ids)
    field = next((message[k] for k in REASONING_KEYS if message.get(k)), None)
    if think_prefilled and field is None and "<think>" not in text:
        text = "<think>" + text
    return split_reasoning(text, field)


def _splits(completions: Sequence[Any], kwargs: dict[str, Any]) -> list[SplitReply]:
    ids = kwargs.get("completion_ids") or [None] * len(completions)
    return [
        split_completion(c, i, tokenizer=kwargs.get("tokenizer"), think_prefilled=kwargs.get("think_prefilled", False))
        for c, i in zip(completions, ids)
    ]


def format_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """1.0 for a closed, non-empty reasoning block followed by a non-empty answer, else 0.0."""
    return [
        1.0 if s.format in WELL_FORMED and s.reasoning and s.content else 0.0
        for s in _splits(completions, kwargs)
    ]


def judge_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    *,
    spec: Any,
    judge: Any,
    judge_k: int = 1,
    options: Any = None,
    sampling: Any = None,
    category: Sequence[Sequence[str] | None] | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """Spec-aware judge score of the ANSWER only, as a fraction of the judge's scale; None where the judgment failed.

    A completion without an answer (reasoning never closed, or empty) scores 0.0 and is not sent.
    ``sampling``: how the judge is sampled (default: the judge's own ``JUDGE_SAMPLING``).
    """
    from deliberate.judge.judge import JudgeInput, judge_items
    from deliberate.judge.score import normalized

    splits = _splits(completions, kwargs)
    categories = category or [None] * len(completions)
    items = [
        JudgeInput(str(i), prompt_messages(p), list(c or ["none"]), None, s.content)
        for i, (p, s, c) in enumerate(zip(prompts, splits, categories))
        if s.content
    ]
    extra = {"config": sampling} if sampling is not None else {}
    judgments, _ = judge_items(items, spec, judge, k=judge_k, answer_only=True, options=options,
                             description="judge reward", **extra) if items else ([], None)
    scores: dict[int, float | None] = {int(item.id): j.score for item, j in zip(items, judgments)}
    return [normalized(scores[i]) if i in scores else 0.0 for i in range(len(completions))]


def refusal_mode_reward(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    *,
    expected_mode: Sequence[str | None] | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the answer's behaviour (rule-based refusal detector) matches ``expected_mode``.

    refuse -> refusal; comply -> compliance; safe_complete -> compliance or partial refusal.
    None for prompts without an expected mode; an empty answer scores 0.0.
    """
    modes = expected_mode or [None] * len(completions)
    splits = _splits(completions, kwargs)
    graded = [i for i, (m, s) in enumerate(zip(modes, splits)) if m and s.content]
    labels = _refusal_grader().grade(
        [prompt_text(prompts[i]) for i in graded], [splits[i].content for i in graded]
    ) if graded else []
    by_index = {i: _value(label) for i, label in zip(graded, labels)}
    return [
        None if not mode else float(by_index.get(i) in MODE_LABELS[_value(mode)])
        for i, mode in enumerate(modes)
    ]


@functools.lru_cache(maxsize=1)
def _refusal_grader() -> Any:
    from deliberate.evals.refusal import RefusalGrader

    return RefusalGrader(method="rules")


def _value(label_or_mode: Any) -> str:
    """An enum member's value, or the string itself."""
    return str(getattr(label_or_mode, "value", label_or_mode))


def prompt_messages(prompt: Any) -> list[ChatMessage]:
    """A TRL prompt (text or chat messages) as our chat messages."""
    if isinstance(prompt, str):
        return [ChatMessage(role="user", content=prompt)]
    return [ChatMessage(role=m["role"], content=m.get("content") or "") for m in prompt]


def prompt_text(prompt: Any) -> str:
    """The last user turn of a TRL prompt."""
    users = [m.content for m in prompt_messages(prompt) if m.role == "user"]
    return users[-1] if users else ""
