"""Splitting a reply into chain of thought and final answer, whatever the model's convention.

Reasoning models disagree on where the chain of thought goes: a separate API field
(vLLM / DeepSeek ``reasoning_content``, OpenRouter ``reasoning``), ``<think>`` tags in the text
(Qwen3, DeepSeek-R1; often the chat template already opened the tag so only ``</think>``
appears), or harmony channels (gpt-oss: ``analysis`` then ``final``). Malformed output is not an
exception: it is returned with a flag so stages can count and drop it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from deliberate.llm.types import ModelResponse, ReasoningFormat, Usage

_OPEN, _CLOSE = "<think>", "</think>"
_HARMONY = re.compile(
    r"<\|channel\|>\s*(?P<channel>analysis|commentary|final)\s*(?:<\|constrain\|>\S*)?"
    r"<\|message\|>(?P<body>.*?)(?=<\|end\|>|<\|return\|>|<\|start\|>|<\|channel\|>|$)",
    re.DOTALL,
)


class SplitReply(NamedTuple):
    reasoning: str | None
    content: str
    format: ReasoningFormat


def split_reasoning(text: str | None, reasoning_field: str | None = None) -> SplitReply:
    """Separate chain of thought from answer.

    Args:
        text: the reply text (``message.content``).
        reasoning_field: a separate reasoning field of the API reply, if the server sent one.
    """
    text = text or ""
    if reasoning_field and reasoning_field.strip():
        # Some servers also leave a stray closing tag in the content.
        content = text.split(_CLOSE, 1)[1] if _CLOSE in text else text
        return SplitReply(reasoning_field.strip(), content.strip(), ReasoningFormat.field)
    if "<|channel|>" in text:
        return _split_harmony(text)
    if _OPEN in text or _CLOSE in text:
        return _split_think(text)
    return SplitReply(None, text.strip(), ReasoningFormat.none)


def _split_think(text: str) -> SplitReply:
    start = text.find(_OPEN)
    end = text.find(_CLOSE)
    if start != -1 and (end == -1 or end < start):
        body = text[start + len(_OPEN):]
        if _CLOSE not in body:
            return _salvage(body)
        reasoning, _, content = body.partition(_CLOSE)
        return SplitReply(reasoning.strip(), _strip_tags(content), ReasoningFormat.think_tags)
    if start == -1:
        reasoning, _, content = text.partition(_CLOSE)
        return SplitReply(reasoning.strip() or None, _strip_tags(content), ReasoningFormat.close_only)
    reasoning = text[start + len(_OPEN):end]
    return SplitReply(reasoning.strip(), _strip_tags(text[end + len(_CLOSE):]), ReasoningFormat.think_tags)


_FINAL_ANSWER = re.compile(r"(?im)^[ \t*#>]*(?:final\s+answer|answer)\s*[:：]\s*\**\s*")


def _salvage(body: str) -> SplitReply:
    """A reasoning block that was never closed: if its last line-initial "Final answer:" (or
    "Answer:") marker is followed by text, that text is the answer (small models often write
    it so); otherwise the whole reply is reasoning with no answer, flagged ``unclosed``."""
    matches = list(_FINAL_ANSWER.finditer(body))
    if matches:
        last = matches[-1]
        reasoning, answer = body[:last.start()].strip(), body[last.end():].strip()
        if answer and reasoning:
            return SplitReply(reasoning, answer, ReasoningFormat.salvaged)
    return SplitReply(body.strip() or None, "", ReasoningFormat.unclosed)


def _strip_tags(content: str) -> str:
    return content.replace(_OPEN, "").replace(_CLOSE, "").strip()


def _split_harmony(text: str) -> SplitReply:
    analysis: list[str] = []
    final: list[str] = []
    for match in _HARMONY.finditer(text):
        (final if match["channel"] == "final" else analysis).append(match["body"].strip())
    reasoning = "\n\n".join(a for a in analysis if a) or None
    if not final:
        return SplitReply(reasoning, "", ReasoningFormat.unclosed)
    return SplitReply(reasoning, "\n\n".join(final).strip(), ReasoningFormat.harmony)


def response_from_text(text: str, *, finish_reason: str | None, usage: Usage, model: str) -> ModelResponse:
    """A local model's generated text as a reply: reasoning split off, whatever its convention."""
    split = split_reasoning(text)
    return ModelResponse(content=split.content, reasoning=split.reasoning, reasoning_format=split.format,
                         finish_reason=finish_reason, usage=usage, model=model)


def join_reasoning(reasoning: str | None, content: str) -> str:
    """The inverse used for training text: ``<think>reasoning</think>`` then the answer."""
    if not reasoning:
        return content
    return f"{_OPEN}\n{reasoning.strip()}\n{_CLOSE}\n\n{content.strip()}"
