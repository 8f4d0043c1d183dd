"""Training data: loading, mixing, and getting the chain of thought through the chat template.

SFT rows come from ``deliberate filter``: ``{"messages": [user..., {"role": "assistant",
"content": ANSWER, "reasoning_content": COT}], "prompt_id": ...}``. Two things can silently ruin
deliberative-alignment SFT, so both are decided here by rendering, not assumed:

* the chain of thought must reach the training text. Templates differ: some render
  ``reasoning_content`` (Qwen3's, for the last turn), others drop it (and some strip
  ``<think>...</think>`` from past turns' content). ``think_format="auto"`` renders one example
  each way and keeps the first whose CoT survives;
* loss must fall on the assistant's tokens only. TRL's ``assistant_only_loss`` needs
  ``{% generation %}`` markers (TRL ships marked copies of common templates); without them we
  convert rows to prompt/completion and use ``completion_only_loss``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from deliberate.errors import DeliberateError, InputFileError
from deliberate.llm.reasoning import join_reasoning, split_reasoning

log = logging.getLogger(__name__)

HF_PREFIX = "hf:"
REASONING_KEYS = ("reasoning_content", "thinking", "reasoning")
Message = dict[str, Any]


class ModelSource(NamedTuple):
    """Where weights come from: a directory or hub id, and a GGUF file name inside it, if any."""

    path: str
    gguf_file: str | None


class ChatPlan(NamedTuple):
    """How SFT rows are rendered: where the CoT goes, which loss mask, with which template."""

    think_format: str  # "field" | "inline"
    loss: str  # "assistant" (assistant_only_loss) | "completion" (completion_only_loss)
    template: str  # the chat template training renders with
    mix: dict[str, Any] | None = None  # the capability mix, for the manifest (details.mix)


def resolve_model(ref: str) -> ModelSource:
    """``hf/PATH`` or a plain path/hub id; ``.../file.gguf`` -> (dir, file)."""
    provider, sep, name = ref.partition("/")
    if sep and provider in ("openai", "vllm"):
        raise DeliberateError(f"cannot train '{ref}': train a local or hub model (hf/PATH)")
    from deliberate.llm.backends.hf import split_gguf

    return ModelSource(*split_gguf(name if sep and provider == "hf" else ref))


def load_tokenizer(path: str, chat_template_path: str | None = None) -> Any:
    """The tokenizer, with ``chat_template_path`` (a Jinja file or a tokenizer) applied if given."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if chat_template_path:
        template = Path(chat_template_path)
        tokenizer.chat_template = (
            template.read_text(encoding="utf-8") if template.is_file()
            else AutoTokenizer.from_pretrained(chat_template_path).chat_template
        )
    if not tokenizer.chat_template:
        raise DeliberateError(f"{path} has no chat template; pass --chat_template_path FILE.jinja")
    return tokenizer


# ----------------------------------------------------------------------------- loading rows


def load_rows(source: str) -> list[dict[str, Any]]:
    """Rows of a JSONL file or of ``hf:NAME[:SPLIT]`` (default split ``train``)."""
    if source.startswith(HF_PREFIX):
        from datasets import load_dataset

        name, _, split = source[len(HF_PREFIX):].partition(":")
        return [dict(row) for row in load_dataset(name, split=split or "train")]
    from deliberate.records.jsonl import iter_jsonl_lines

    return [row for _, row in iter_jsonl_lines(source)]


def load_conversations(source: str) -> list[list[Message]]:
    """The ``messages`` of every row, normalized; extra columns are dropped."""
    conversations = []
    for index, row in enumerate(load_rows(source), start=1):
        messages = row.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InputFileError(source, "row has no 'messages' list", index)
        if not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
            raise InputFileError(source, "last message must be the assistant's", index)
        conversations.append([normalize_message(m) for m in messages])
    if not conversations:
        raise InputFileError(source, "no training rows")
    return conversations


def normalize_message(message: Message) -> Message:
    """``{"role", "content", "reasoning"?}``: the CoT taken from a reasoning field or from
    ``<think>`` tags in the content, so both export styles of ``deliberate filter`` train alike."""
    content = _text(message.get("content"))
    out: Message = {"role": message["role"], "content": content}
    if message["role"] != "assistant":
        return out
    field = next((message[k] for k in REASONING_KEYS if message.get(k)), None)
    split = split_reasoning(content, field)
    if split.reasoning:
        out.update(content=split.content, reasoning=split.reasoning)
    return out


def _text(content: Any) -> str:
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def mix_conversations(
    main: Sequence[Any], extra: Sequence[Any], ratio: float, seed: int = 0
) -> list[Any]:
    """``main`` plus a sample of ``extra`` making up ``ratio`` of the result.

    With too little ``extra`` all of it is used (a warning says the ratio actually reached).
    """
    if ratio <= 0 or not extra:
        return list(main)
    want = round(len(main) * ratio / (1 - ratio))
    if want > len(extra):
        log.warning("mix_dataset has %d rows, %d wanted: mixing at %.3f instead of %.3f",
                    len(extra), want, len(extra) / (len(extra) + len(main)), ratio)
        want = len(extra)
    return [*main, *random.Random(seed).sample(list(extra), want)]


# ----------------------------------------------------------------------------- templates


def format_messages(messages: Sequence[Message], think_format: str, reasoning_field: str) -> list[Message]:
    """Normalized messages -> template input: CoT in ``reasoning_field`` or inline ``<think>``."""
    out = []
    for message in messages:
        reasoning = message.get("reasoning")
        row = {"role": message["role"], "content": message["content"]}
        if reasoning and think_format == "field":
            row[reasoning_field] = reasoning
        elif reasoning:
            row["content"] = join_reasoning(reasoning, message["content"])
        out.append(row)
    return out


def choose_loss(tokenizer: Any) -> tuple[str, str]:
    """("assistant", template) when assistant masks are available, else ("completion", template)."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    template = tokenizer.chat_template
    template = template["default"] if isinstance(template, dict) else template
    if has_generation_markers(template):
        return "assistant", template
    try:
        return "assistant", get_training_chat_template(tokenizer) or template
    except ValueError:  # a template TRL has no marked copy of
        return "completion", template


def choose_think_format(
    tokenizer: Any, template: str, example: Sequence[Message], requested: str, reasoning_field: str
) -> str:
    """``requested`` unless "auto": then the first format whose CoT survives rendering."""
    if requested != "auto":
        return requested
    cot = next((m["reasoning"] for m in example if m.get("reasoning")), None)
    if cot is None:
        return "field"  # nothing to lose
    for think_format in ("field", "inline"):
        if cot.strip() in render(tokenizer, template, format_messages(example, think_format, reasoning_field)):
            return think_format
    raise DeliberateError(
        "the chat template drops the chain of thought whether it is given as "
        f"'{reasoning_field}' or inline <think>; pass --chat_template_path with one that keeps it"
    )


def render(tokenizer: Any, template: str, messages: Sequence[Message]) -> str:
    return str(tokenizer.apply_chat_template(list(messages), chat_template=template, tokenize=False))


def plan_chat(tokenizer: Any, example: Sequence[Message], think_format: str, reasoning_field: str) -> ChatPlan:
    loss, template = choose_loss(tokenizer)
    chosen = choose_think_format(tokenizer, template, example, think_format, reasoning_field)
    return ChatPlan(chosen, loss, template)


def to_rows(conversations: Sequence[Sequence[Message]], plan: ChatPlan, reasoning_field: str) -> list[dict]:
    """Trainer rows: ``{"messages"}`` for assistant masks, ``{"prompt", "completion"}`` otherwise."""
    rows = []
    for conversation in conversations:
        messages = format_messages(conversation, plan.think_format, reasoning_field)
        if plan.loss == "assistant":
            rows.append({"messages": messages})
        else:
            rows.append({"prompt": messages[:-1], "completion": messages[-1:]})
    return rows


def sft_dataset(config: Any, tokenizer: Any) -> tuple[Any, ChatPlan]:
    """The SFT dataset (main + capability mix) and the plan it was rendered with."""
    from datasets import Dataset

    from deliberate.train.capability_mix import load_mix

    main = load_conversations(config.dataset)
    extra, mix = load_mix(config.mix_dataset, config.mix_ratio)
    conversations = mix_conversations(main, extra, config.mix_ratio, config.seed)
    rows = len(conversations) - len(main)
    mix.update(rows=rows, ratio_reached=round(rows / len(conversations), 4))
    example = next((c for c in main if any(m.get("reasoning") for m in c)), main[0])
    plan = plan_chat(tokenizer, example, config.think_format, config.reasoning_field)._replace(mix=mix)
    return Dataset.from_list(to_rows(conversations, plan, config.reasoning_field)), plan


# ----------------------------------------------------------------------------- RL prompts


def rl_dataset(source: str, spec: Any) -> Any:
    """:func:`rl_rows` as a ``datasets.Dataset`` (no benign prompts added)."""
    from datasets import Dataset

    return Dataset.from_list(rl_rows(source, spec))


def rl_rows(source: str, spec: Any) -> list[dict[str, Any]]:
    """GRPO prompts: conversational ``prompt`` plus ``prompt_id``, ``category``, ``expected_mode``
    (extra columns reach the reward functions as keyword arguments)."""
    from deliberate.records import load_prompts

    return [
        {
            "prompt": [{"role": m.role, "content": m.content} for m in record.as_messages()],
            "prompt_id": record.id,
            "category": record.category or ["none"],
            "expected_mode": record.expected_mode.value if record.expected_mode else None,
        }
        for record in load_prompts(source, categories=spec.category_ids)
    ]
