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
