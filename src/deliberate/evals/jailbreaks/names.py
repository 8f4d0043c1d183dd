"""Parsing a jailbreak selection (``--jailbreaks``) into names, and checking it can be run.

Why two functions: :func:`jailbreak_names` is pure parsing, cheap enough to size a run or fill
a manifest (it never reads a file); :func:`select_jailbreaks` also finds the templates the
selection needs and says whether the run is official StrongREJECT or only "StrongREJECT-style".

Selection words (comma-separated, combinable, duplicates dropped, order kept):

* ``official`` -- the 25 deterministic official jailbreaks (the default);
* ``all`` -- ``official`` plus our extras: ``leetspeak`` and best-of-N (``bon_0 .. bon_7``);
* ``extras`` -- the extras alone; ``best_of_n`` -- the 8 best-of-N variants;
* ``bon:N`` -- ``bon_0 .. bon_{N-1}``; any single name (``bon_<i>`` included);
* ``official+attacks`` -- ``official`` plus the 12 model-based official jailbreaks
  (``MODEL_BASED_OFFICIAL``: PAIR, the 5 PAP techniques, auto_payload_splitting,
  auto_obfuscation, the 4 translations); ``attacks`` -- those 12 alone; ``pap``,
  ``translation`` -- their families. These need an attacker model (``--attacker``; the eval
  config refuses them without one), so ``all`` leaves them out.

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
    ATTACK_WORDS,
    BEST_OF_N,
    DEFAULT_BON_N,
    EXTRAS,
    MODEL_BASED_OFFICIAL,
    OFFICIAL_JAILBREAKS,
    TRANSLATIONS,
)
from deliberate.evals.jailbreaks.registry import JAILBREAKS, get_jailbreak
from deliberate.evals.jailbreaks.templates import wrapping_templates

_WORDS = {
    "official": list(OFFICIAL_JAILBREAKS),
    "all": list(JAILBREAKS),
    "extras": list(EXTRAS),
    BEST_OF_N: [f"bon_{i}" for i in range(DEFAULT_BON_N)],
    **{word: list(names) for word, names in ATTACK_WORDS.items()},
}


def _valid() -> str:
    return (f"{', '.join(JAILBREAKS)}, bon_<i>, bon:N, {', '.join(MODEL_BASED_OFFICIAL)} "
            f"(with --attacker), {', '.join(_WORDS)}")


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
    if item in JAILBREAKS or item in MODEL_BASED_OFFICIAL or BON_NAME.fullmatch(item):
        return [item]
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
    translations = [n for n in names if n in TRANSLATIONS]
    if translations:
        reasons.append(f"{', '.join(translations)} translated by the attacker model, not by "
                       "Google Translate as the official code does")
    status, dropped = None, tuple(n for n in names if n in missing_attack_files(names, assets_dir))
    if any(n in JAILBREAKS and JAILBREAKS[n].templated for n in names):
        current = wrapping_templates(assets_dir)
        status, dropped = current.status, (*current.missing(names), *dropped)
        if not status.official:
            reasons.append(f"our own wording, not the official templates ({status.reason})")
    if dropped:
        reasons.append(f"left out for want of the official templates: {', '.join(dropped)}")
        names = [n for n in names if n not in dropped]
    if not names:
        raise DeliberateError(f"no jailbreak of {spec!r} can run: {'; '.join(reasons)}")
    return JailbreakSelection(names, not reasons, "; ".join(reasons), dropped, status)


def missing_attack_files(names: list[str], assets_dir: str | Path | None = None) -> dict[str, str]:
    """The model-based jailbreaks among ``names`` whose official prompts cannot be had, each
    with the file it needs. PAP and PAIR have no wording of ours to fall back on."""
    from deliberate.evals.jailbreaks.assets import official_json
    from deliberate.evals.jailbreaks.attacks.prompts import ATTACK_FILES

    missing = {}
    for name in names:
        for filename in ATTACK_FILES.get(name.split("_", 1)[0], ()):
            if official_json(filename, assets_dir)[0] is None:
                missing[name] = filename
    return missing
