"""Response modes and the pseudo-category of benign prompts: the vocabulary every record shares.

Models (and people) write the same mode several ways: the spec says ``safe_complete``, its prose
"safe-complete", its style guideline ``style.safe_completion``, a judge may answer "compliance".
:class:`ResponseMode` accepts each spelling, so a valid answer is never thrown away for its
wording, while anything else is still rejected.
"""

from __future__ import annotations

import re
from enum import Enum

NONE_CATEGORY = "none"
"""Pseudo-category of benign prompts that touch no policy category."""


class ResponseMode(str, Enum):
    """How the assistant should respond when a rule applies."""

    comply = "comply"
    safe_complete = "safe_complete"
    refuse = "refuse"

    @classmethod
    def _missing_(cls, value: object) -> ResponseMode | None:
        if not isinstance(value, str):
            return None
        key = re.sub(r"[\s\-]+", "_", value.strip().lower()).removeprefix("style.")
        return _SYNONYMS.get(key)


_SYNONYMS = {
    "comply": ResponseMode.comply, "compliance": ResponseMode.comply, "complies": ResponseMode.comply,
    "full_compliance": ResponseMode.comply, "help": ResponseMode.comply,
    "safe_complete": ResponseMode.safe_complete, "safe_completion": ResponseMode.safe_complete,
    "safe_completions": ResponseMode.safe_complete, "safely_complete": ResponseMode.safe_complete,
    "refuse": ResponseMode.refuse, "refusal": ResponseMode.refuse, "hard_refusal": ResponseMode.refuse,
    "refused": ResponseMode.refuse,
}

_DECLARATION = re.compile(
    r"(?<![\w-])(?:response[ \t]+)?mode(?![\w-])[*_ \t]*(?:is|[:=\-\u2013\u2014])[*_ \t]*[`\"'*]*"
    r"([A-Za-z][A-Za-z_\- ]{1,30})",
    re.IGNORECASE,
)


def parse_declared_mode(text: str | None) -> ResponseMode | None:
    """The response mode a chain of thought declares ("Response mode: safe_complete",
    "**Mode:** refuse", "mode - safe completion"); the last declaration wins, since a chain of
    thought may weigh a mode before settling on another. None when nothing is declared."""
    found = None
    for match in _DECLARATION.finditer(text or ""):
        words = re.split(r"[\s\-_]+", match.group(1).strip().lower())
        for size in (2, 1):
            mode = _SYNONYMS.get("_".join(words[:size]))
            if mode is not None:
                found = mode
                break
    return found
