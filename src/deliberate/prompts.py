"""Prompt templates: Jinja files shipped in ``deliberate/templates/``, each with a content hash.

Prompts live in files, not in code, so they can be read, reviewed and versioned; the hash of the
template text goes into every output record so a changed prompt is visible in provenance.

Untrusted text (user prompts, model outputs, chains of thought) goes into a template only through
``fence(tag, material)``, which encloses it, verbatim but for surrounding whitespace (stripped),
between delimiters that carry an id::

    <answer id="3f0a9c1d">
    ...the text...
    </answer id="3f0a9c1d">

A conversation (a list of turns) becomes one section holding one ``turn`` section per turn, the
role as an attribute: ``<turn role="user" id="3f0a9c1d">``. In a rendered template every section
shares one id, derived from a hash of all the text fenced in it and re-derived until it occurs in
none of that text (nor in a normalised form of it: HTML entities decoded, NFKC, case folded,
everything but letters and digits removed). So no text can close its own section or forge
another, whatever tags, role markers or look-alikes it holds, and the id is deterministic: the
same input renders the same prompt on every run (prompts are part of the response-cache key).
The templates tell the model that only tags carrying that id delimit material.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, partial
from importlib import resources
from itertools import count
from typing import Any, NamedTuple

SECTION_TAGS = ("spec", "request", "conversation", "turn", "reasoning", "answer", "response",
                "prompt")
"""Tags that delimit sections in our templates (``turn`` is one turn inside a conversation)."""

ID_LENGTH = 8
"""Hex digits in a fence id."""

Material = str | Sequence[Any]
"""What ``fence`` encloses: a text, or a conversation: turns with ``.role`` and ``.content``
(a ``ChatMessage``), ``{"role", "content"}`` dicts or ``(role, text)`` pairs."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_NOT_ALNUM = re.compile(r"[\W_]+")


class PromptTemplate(NamedTuple):
    name: str
    text: str
    hash: str

    def render(self, **variables: Any) -> str:
        """The template with ``fence`` bound to one id for all the material it fences."""
        template = _compile(self.text)
        texts: list[str] = []
        template.render(fence=lambda tag, material: texts.extend(material_texts(material)) or "",
                        **variables)
        fencer = partial(fence, ident=fence_id(texts))
        return template.render(fence=fencer, **variables).strip() + "\n"


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


def fence(tag: str, material: Material, *, ident: str | None = None) -> str:
    """``material`` between ``<tag id="ID">`` and ``</tag id="ID">`` lines, stripped.

    A conversation gets one ``<turn role="ROLE" id="ID">`` section per turn inside. ``ident``
    defaults to :func:`fence_id` of the material; a template's ``fence`` passes the id of all
    the template's material, so every section of one prompt shares it.
    """
    if ident is None:
        ident = fence_id(material_texts(material))
    if isinstance(material, str):
        return _section(tag, ident, material.strip())
    turns = [_section("turn", ident, text.strip(), role) for role, text in _turns(material)]
    return _section(tag, ident, "\n\n".join(turns))


def _section(tag: str, ident: str, body: str, role: str | None = None) -> str:
    for name in (tag, role or "x"):
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a tag or role name: {name!r}")
    attributes = f' role="{role}"' if role else ""
    return f'<{tag}{attributes} id="{ident}">\n{body}\n</{tag} id="{ident}">'


def _turns(conversation: Sequence[Any]) -> list[tuple[str, str]]:
    """``(role, text)`` of each turn: a message object, a ``{"role", "content"}`` dict or a pair."""
    out = []
    for turn in conversation:
        if hasattr(turn, "role"):
            out.append((turn.role, turn.content))
        elif isinstance(turn, Mapping):
            out.append((turn["role"], turn["content"]))
        else:
            out.append((turn[0], turn[1]))
    return out


def material_texts(material: Material) -> list[str]:
    """The texts ``fence`` would enclose, stripped."""
    if isinstance(material, str):
        return [material.strip()]
    return [text.strip() for _, text in _turns(material)]


def fence_id(texts: Iterable[str]) -> str:
    """An id of ``ID_LENGTH`` hex digits derived from ``texts``, occurring in none of them.

    Deterministic: a hash of the texts, then of the hash and an attempt counter until the id is
    absent from every text, as written and normalised (see the module docstring).
    """
    texts = list(texts)
    haystacks = [t.casefold() for t in texts] + [_normalised(t) for t in texts]
    base = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        base.update(len(data).to_bytes(8, "big") + data)
    for attempt in count():
        ident = hashlib.sha256(base.digest() + attempt.to_bytes(8, "big")).hexdigest()[:ID_LENGTH]
        if not any(ident in hay for hay in haystacks):
            return ident
    raise AssertionError("unreachable")


def _normalised(text: str) -> str:
    """Letters and digits of ``text`` as a reader might see them: entities decoded, NFKC, folded."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", html.unescape(text)).casefold())


class Section(NamedTuple):
    """One fenced section of a rendered prompt."""

    tag: str
    role: str | None
    id: str
    text: str


_OPENING = re.compile(r'<([a-z][a-z0-9_]*)(?: role="([a-z][a-z0-9_]*)")? id="([0-9a-f]+)">\n')


def sections(prompt: str) -> list[Section]:
    """The fenced sections of a rendered prompt in order of their opening delimiters.

    The id is read from the first opening delimiter: templates put no material before their
    first fence. A conversation comes before its turns; its text is the fenced turns.
    """
    first = _OPENING.search(prompt)
    if first is None:
        return []
    ident = first.group(3)
    found = []
    for opening in _OPENING.finditer(prompt, first.start()):
        if opening.group(3) != ident:
            continue
        tag, role = opening.group(1), opening.group(2)
        end = prompt.find(f'\n</{tag} id="{ident}">', opening.end())
        if end < 0:
            raise ValueError(f"section {tag!r} is not closed")
        found.append(Section(tag, role, ident, prompt[opening.end():end]))
    return found
