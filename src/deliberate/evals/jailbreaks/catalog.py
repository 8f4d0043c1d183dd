"""The names of the jailbreaks: which are official StrongREJECT ones, which are our extras.

Why a module of its own: the names are facts about the published benchmark that selection
parsing, the registry and the asset loader all need, and they must be known without reading any
file (parsing ``--jailbreaks`` never touches the disk or the network).
"""

from __future__ import annotations

DEFAULT_JAILBREAKS = "official"
"""The selection ``deliberate eval`` uses unless told otherwise: the published set."""

WRAPPING_JAILBREAKS: tuple[str, ...] = (
    "base64", "base64_input_only", "base64_output_only",
    "combination_2", "combination_3",
    "refusal_suppression", "prefix_injection", "style_injection_short", "style_injection_json",
    "distractors", "distractors_negated", "poems", "few_shot_json",
    "wikipedia", "wikipedia_with_title",
    "aim", "evil_confidant", "dev_mode_v2", "dev_mode_with_rant",
    "gcg_transfer_harmbench", "gcg_transfer_universal_attacks",
)
"""Official jailbreaks that put the prompt into a template of ``wrapping_jailbreaks.json``.

``none`` and ``base64_raw`` are in that file too, but their templates are the bare placeholder,
so they are plain code here and work without the file."""

CODE_JAILBREAKS: tuple[str, ...] = ("none", "base64_raw", "rot_13", "disemvowel")
"""Official jailbreaks that are a fixed function of the prompt (no template file needed)."""

OFFICIAL_JAILBREAKS: tuple[str, ...] = CODE_JAILBREAKS + WRAPPING_JAILBREAKS
"""The 25 deterministic official StrongREJECT jailbreaks: the ``official`` selection."""

BASE64_INPUT: frozenset[str] = frozenset(
    {"base64", "base64_raw", "base64_input_only", "combination_2", "combination_3"}
)
"""Jailbreaks whose prompt is base64-encoded before it goes into the template (as upstream:
``base64_output_only`` sends the prompt in plain text and asks for a base64 reply)."""

PAP_TEMPLATES: tuple[str, ...] = (
    "evidence_based_persuasion", "expert_endorsement", "misrepresentation",
    "authority_endorsement", "logical_appeal",
)
"""The persuasion techniques of ``pap_persuasion_templates.json`` (one ``pap_<t>`` each)."""

TRANSLATION_LANGUAGES: dict[str, str] = {
    "hmong": "Hmong", "scotts_gaelic": "Scottish Gaelic", "guarani": "Guarani", "zulu": "Zulu",
}
"""The official low-resource languages (``translation_<key>``; the official code's spelling of
``scotts_gaelic``), with the name a translation prompt uses."""

PAP: tuple[str, ...] = tuple(f"pap_{t}" for t in PAP_TEMPLATES)
TRANSLATIONS: tuple[str, ...] = tuple(f"translation_{lang}" for lang in TRANSLATION_LANGUAGES)

MODEL_BASED_OFFICIAL: tuple[str, ...] = (
    "pair", *PAP, "auto_payload_splitting", "auto_obfuscation", *TRANSLATIONS,
)
"""Official jailbreaks whose prompt an attacker model writes (``--attacker``): PAIR searches
against the evaluated model, the others rewrite each prompt once. Their prompts come from
:mod:`.attacks` before the evaluated model is sampled; they are in no selection word but
``attacks``, ``official+attacks``, ``pap`` and ``translation``."""

ATTACK_WORDS: dict[str, tuple[str, ...]] = {
    "attacks": MODEL_BASED_OFFICIAL,
    "official+attacks": OFFICIAL_JAILBREAKS + MODEL_BASED_OFFICIAL,
    "pap": PAP,
    "translation": TRANSLATIONS,
}
"""Selection words that include model-based jailbreaks."""

BEST_OF_N = "best_of_n"
"""The one technique all ``bon_<i>`` variants belong to (scored as the max over variants)."""

DEFAULT_BON_N = 8
"""How many best-of-N variants ``all`` (and ``best_of_n``) includes."""

EXTRAS: tuple[str, ...] = ("leetspeak", *(f"bon_{i}" for i in range(DEFAULT_BON_N)))
"""Our own jailbreaks, not part of StrongREJECT: in ``all``, never in ``official``."""
