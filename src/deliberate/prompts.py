"""Prompt templates: Jinja files shipped in ``deliberate/templates/``, each with a content hash.

Prompts live in files, not in code, so they can be read, reviewed and versioned; the hash of the
template text goes into every output record so a changed prompt is visible in provenance.
Untrusted text (user prompts, model outputs) is wrapped by :func:`fence`, which neutralises any
copy of the closing tag inside it, so the text cannot end its own section early.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from typing import Any, NamedTuple


class PromptTemplate(NamedTuple):
    name: str
    text: str
    hash: str

    def render(self, **variables: Any) -> str:
        return _compile(self.text).render(fence=fence, **variables).strip() + "\n"


@cache
def load_template(name: str) -> PromptTemplate:
    """Load ``templates/<name>.j2`` from the package."""
    text = (resources.files("deliberate") / "templates" / f"{name}.j2").read_text(encoding="utf-8")
    return PromptTemplate(name, text, hashlib.sha256(text.encode()).hexdigest()[:16])


@cache
def _compile(text: str) -> Any:
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.from_string(text)


SECTION_TAGS = ("spec", "request", "conversation", "reasoning", "answer", "response", "prompt")
"""Tags that delimit sections in our templates; untrusted text may open or close none of them."""


def fence(tag: str, text: str) -> str:
    """``<tag>text</tag>`` where ``text`` cannot open or close any section tag."""
    safe = text
    for name in {tag, *SECTION_TAGS}:
        safe = re.sub(rf"<(/?)\s*{name}\s*>", rf"<\1 {name}>", safe, flags=re.IGNORECASE)
    return f"<{tag}>\n{safe.strip()}\n</{tag}>"
