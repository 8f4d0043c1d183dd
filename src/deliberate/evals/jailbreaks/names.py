"""Parsing a jailbreak selection (``--jailbreaks``) into names, and checking it can be run.

Why two functions: :func:`jailbreak_names` is pure parsing, cheap enough to size a run or fill
a manifest (it never reads a file); :func:`select_jailbreaks` also finds the templates the
selection needs and says whether the run is official StrongREJECT or only "StrongREJECT-style".

Selection words (comma-separated, combinable, duplicates dropped, order kept):

* ``official`` -- the 25 deterministic official jailbreaks (the default);
* ``all`` -- ``official`` plus our extras: ``leetspeak`` and best-of-N (``bon_0 .. bon_7``);
* ``extras`` -- the extras alone; ``best_of_n`` -- the 8 best-of-N variants;
* ``bon:N`` -- ``bon_0 .. bon_{N-1}``; any single name (``bon_<i>`` included).

The model-based official jailbreaks (PAIR, PAP, auto_payload_splitting, auto_obfuscation,
translations; ``MODEL_BASED_OFFICIAL``) need an attacker model and are not built yet: naming
one, or ``official+attacks``, is a ValueError saying so.

>>> jailbreak_names("none, bon:2, none")
['none', 'bon_0', 'bon_1']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks.assets import AssetsStatus
from deliberate.evals.jailbreaks.best_of_n import BON_NAME, technique_of
from deliberate.evals.jailbreaks.catalog import (
    BEST_OF_N,
    DEFAULT_BON_N,
    EXTRAS,
    MODEL_BASED_OFFICIAL,
    MODEL_BASED_SPECS,
    OFFICIAL_JAILBREAKS,
)
from deliberate.evals.jailbreaks.registry import JAILBREAKS, get_jailbreak
from deliberate.evals.jailbreaks.templates import wrapping_templates

_WORDS = {
    "official": list(OFFICIAL_JAILBREAKS),
    "all": list(JAILBREAKS),
    "extras": list(EXTRAS),
    BEST_OF_N: [f"bon_{i}" for i in range(DEFAULT_BON_N)],
}


def _valid() -> str:
    return f"{', '.join(JAILBREAKS)}, bon_<i>, bon:N, {', '.join(_WORDS)}"


def jailbreak_names(spec: str) -> list[str]:
    """Parse a jailbreak selection (see the module docstring); ValueError on anything invalid."""
    names: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        names.extend(_expand(item))
    if not names:
        raise ValueError(f"no jailbreaks in {spec!r}; valid names: {_valid()}")
    return list(dict.fromkeys(names))


def _expand(item: str) -> list[str]:
    if not item:
        return []
    if item in _WORDS:
        return _WORDS[item]
    if item.startswith("bon:"):
        count = item[4:].strip()
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"bad best-of-N spec {item!r}: use bon:N with N >= 1")
        return [f"bon_{i}" for i in range(int(count))]
    if item in JAILBREAKS or BON_NAME.fullmatch(item):
        return [item]
    if item in MODEL_BASED_OFFICIAL or item in MODEL_BASED_SPECS:
        raise ValueError(
            f"{item!r}: the model-based official jailbreaks ({', '.join(MODEL_BASED_OFFICIAL)}) "
            "need an attacker model (--attacker), which is not built yet"
        )
    raise ValueError(f"unknown jailbreak {item!r}; valid names: {_valid()}")


@dataclass(frozen=True)
class JailbreakSelection:
    """A parsed selection that can be run, and whether its results are official StrongREJECT.

    ``official`` is True when every jailbreak is an official one rendered exactly as upstream
    renders it; otherwise ``reason`` says why not (our extras, our fallback wording, jailbreaks
    left out for want of the official file, listed in ``dropped``).
    """

    names: list[str]
    official: bool
    reason: str
    dropped: tuple[str, ...] = ()
    assets: AssetsStatus | None = None

    @property
    def label(self) -> str:
        """What a report should call results run with this selection."""
        if self.official:
            return "StrongREJECT (official jailbreaks)"
        return f"StrongREJECT-style, not comparable: {self.reason}"


def select_jailbreaks(spec: str, *, assets_dir: str | Path | None = None) -> JailbreakSelection:
    """Parse ``spec`` and resolve the templates it needs (may download them, once).

    Jailbreaks without any template (the GCG suffixes, when the official file cannot be had)
    are dropped and named; DeliberateError if that leaves nothing.
    """
    try:
        names = jailbreak_names(spec)
    except ValueError as exc:
        raise DeliberateError(str(exc)) from None
    reasons = []
    extras = [technique_of(n) for n in names if not get_jailbreak(n).official]
    if extras:
        reasons.append(f"includes our extras ({', '.join(dict.fromkeys(extras))})")
    status, dropped = None, ()
    if any(n in JAILBREAKS and JAILBREAKS[n].templated for n in names):
        current = wrapping_templates(assets_dir)
        status, dropped = current.status, tuple(current.missing(names))
        if not status.official:
            reasons.append(f"our own wording, not the official templates ({status.reason})")
        if dropped:
            reasons.append(f"left out for want of the official templates: {', '.join(dropped)}")
            names = [n for n in names if n not in dropped]
    if not names:
        raise DeliberateError(f"no jailbreak of {spec!r} can run: {'; '.join(reasons)}")
    return JailbreakSelection(names, not reasons, "; ".join(reasons), dropped, status)
