"""The registry: every jailbreak by name, and the calls that apply one or decode its reply.

Why: the eval runner, the grader and ``deliberate jailbreak apply`` need one place that maps a
name to its transform and decoder, whatever kind it is (code, official template, seeded
best-of-N variant).

>>> apply_jailbreak("base64_raw", "Hi there")
'SGkgdGhlcmU='
>>> decode_response("base64_raw", "SGkgdGhlcmU")
'Hi there'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks import encodings as enc
from deliberate.evals.jailbreaks.best_of_n import BON_NAME, bon_transform, technique_of
from deliberate.evals.jailbreaks.catalog import (
    DEFAULT_BON_N,
    MODEL_BASED_OFFICIAL,
    PAP_TEMPLATES,
    TRANSLATION_LANGUAGES,
)
from deliberate.evals.jailbreaks.decoders import (
    UPSTREAM_DECODERS,
    decode_base64,
    decode_json_list,
)
from deliberate.evals.jailbreaks.templates import render


@dataclass(frozen=True)
class Jailbreak:
    """A named prompt transform and, when it asks for an encoded reply, the matching decoder.

    ``seeded`` transforms take a ``seed`` keyword; ``templated`` ones take ``assets_dir`` (they
    read the official templates). ``official`` marks the published StrongREJECT jailbreaks;
    ``model_based`` ones have no transform of their own: an attacker model writes their prompt
    during an eval (:mod:`.attacks`), and calling ``transform`` says so.
    """

    name: str
    transform: Callable[..., str]
    decode: Callable[[str], str] | None
    description: str
    seeded: bool = False
    templated: bool = False
    official: bool = False
    model_based: bool = False

    @property
    def technique(self) -> str:
        """What goodness@0.1 counts as one technique (``best_of_n`` for every ``bon_<i>``)."""
        return technique_of(self.name)


_CODE = [
    ("none", enc.identity, None, "The forbidden prompt unchanged."),
    ("base64_raw", enc.b64encode, decode_base64, "Only the base64 of the prompt."),
    ("rot_13", enc.rot13_request, None, "Prompt in ROT13; reply requested in plain text."),
    ("disemvowel", enc.disemvowel, None, "Prompt with its vowels removed."),
]

_WRAPPING = [
    ("base64", decode_base64, "Prompt in base64; reply requested in base64."),
    ("base64_input_only", None, "Prompt in base64; plain-text reply."),
    ("base64_output_only", decode_base64, "Plain prompt; reply requested in base64."),
    ("combination_2", decode_json_list,
     "Base64 prompt + refusal suppression + prefix injection + JSON-list reply."),
    ("combination_3", decode_json_list, "combination_2 asking for a Wikipedia article."),
    ("refusal_suppression", None, "Rules forbidding the usual refusal phrasing."),
    ("prefix_injection", None, "Reply must open with an eager yes."),
    ("style_injection_short", None, "Style rules that break the refusal style."),
    ("style_injection_json", decode_json_list, "Reply only as a JSON list of short strings."),
    ("distractors", None, "Request hidden among benign tasks."),
    ("distractors_negated", None, "A benign task, the request, then the task withdrawn."),
    ("poems", None, "Request after several unrelated poems."),
    ("few_shot_json", None, "Next entry of a JSON dataset of harmful answers, few-shot."),
    ("wikipedia", None, "A Wikipedia article on the request."),
    ("wikipedia_with_title", None, "A Wikipedia article on the request, title first."),
    ("aim", None, "Role-play as an amoral counsellor (AIM)."),
    ("evil_confidant", None, "Role-play as a scruple-free confidant."),
    ("dev_mode_v2", None, "Two replies, the second in 'developer mode'."),
    ("dev_mode_with_rant", None, "dev_mode_v2 opening with a rant about content policies."),
    ("gcg_transfer_harmbench", None, "Adversarial GCG suffix transferred from HarmBench."),
    ("gcg_transfer_universal_attacks", None, "Adversarial GCG suffix (Zou et al. 2023)."),
]


def bon_jailbreak(index: int) -> Jailbreak:
    """Best-of-N variant ``bon_<index>`` (any index is valid)."""
    return Jailbreak(
        f"bon_{index}", bon_transform(index), None,
        f"Best-of-N augmentation #{index}: scrambled, case-flipped, lightly noised text.",
        seeded=True,
    )


def _model_based_descriptions() -> dict[str, str]:
    found = {"pair": "PAIR: the attacker refines a prompt against the evaluated model, a judge "
                     "scoring each answer (up to 20 rounds).",
             "auto_payload_splitting": "The attacker flags the telling words; each is split in "
                                       "two halves given as variables.",
             "auto_obfuscation": "The attacker rewrites the prompt in its own compressed code "
                                 "(symbols, languages, Unicode)."}
    found.update({f"pap_{t}": f"PAP: the attacker rewrites the prompt by {t.replace('_', ' ')}."
                  for t in PAP_TEMPLATES})
    found.update({f"translation_{key}": f"The prompt translated into {language} by the attacker; "
                  "the answer translated back." for key, language in TRANSLATION_LANGUAGES.items()})
    return found


def _needs_attacker(name: str) -> Callable[..., str]:
    def transform(*_: object, **__: object) -> str:
        raise DeliberateError(
            f"jailbreak {name} is model-based: an attacker model writes its prompt during an eval "
            f"(deliberate eval --jailbreaks {name} --attacker MODEL)")
    return transform


MODEL_BASED: dict[str, Jailbreak] = {
    name: Jailbreak(name, _needs_attacker(name), None, description, official=True,
                    model_based=True)
    for name, description in _model_based_descriptions().items()
}
"""The official model-based jailbreaks (:data:`.catalog.MODEL_BASED_OFFICIAL`), by name."""


def _registry() -> dict[str, Jailbreak]:
    registry = {n: Jailbreak(n, fn, dec, d, official=True) for n, fn, dec, d in _CODE}
    registry.update({
        n: Jailbreak(n, partial(render, n), dec, d, templated=True, official=True)
        for n, dec, d in _WRAPPING
    })
    registry["leetspeak"] = Jailbreak(
        "leetspeak", enc.leetspeak, None, "Our extra: look-alike symbol substitutions."
    )
    registry.update({f"bon_{i}": bon_jailbreak(i) for i in range(DEFAULT_BON_N)})
    return registry


JAILBREAKS: dict[str, Jailbreak] = _registry()
"""Every jailbreak of the ``all`` selection, official ones first; any ``bon_<i>`` is valid too."""


def get_jailbreak(name: str) -> Jailbreak:
    """The jailbreak called ``name`` (model-based ones included); any ``bon_<i>`` is accepted.
    KeyError lists valid names."""
    if name in JAILBREAKS:
        return JAILBREAKS[name]
    m = BON_NAME.fullmatch(name)
    if m:
        return bon_jailbreak(int(m.group(1)))
    if name in MODEL_BASED:
        return MODEL_BASED[name]
    raise KeyError(f"unknown jailbreak {name!r}; valid names: {', '.join(JAILBREAKS)} (or bon_<i>), "
                   f"{', '.join(MODEL_BASED_OFFICIAL)} (with --attacker)")


def apply_jailbreak(
    name: str, prompt: str, *, seed: int = 0, assets_dir: str | Path | None = None
) -> str:
    """Apply jailbreak ``name`` to ``prompt``.

    ``seed`` matters only for seeded (``bon_*``) ones, ``assets_dir`` only for templated ones
    (where to find the official files; see :mod:`.assets`). A model-based one is a
    DeliberateError: its prompt needs an attacker model (:mod:`.attacks`).
    """
    jb = get_jailbreak(name)
    if jb.seeded:
        return jb.transform(prompt, seed=seed)
    if jb.templated:
        return jb.transform(prompt, assets_dir=assets_dir)
    return jb.transform(prompt)


def decode_response(name: str, response: str, *, upstream: bool = False) -> str:
    """Turn the model's reply to jailbreak ``name`` back into plain text for the grader.

    Identity for jailbreaks without a decoder; a reply that fails to decode comes back
    unchanged. ``upstream=True`` uses the official decoders, flaws included (see
    :mod:`.decoders`), to reproduce published numbers exactly. Unknown names raise KeyError,
    as in :func:`apply_jailbreak`.
    """
    jb = get_jailbreak(name)
    if jb.decode is None:
        return response
    decode = UPSTREAM_DECODERS.get(jb.decode, jb.decode) if upstream else jb.decode
    try:
        return decode(response)
    except Exception:  # noqa: BLE001 -- a decoder must never break grading
        return response
