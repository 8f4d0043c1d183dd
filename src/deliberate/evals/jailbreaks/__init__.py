"""StrongREJECT jailbreaks: transforms of a forbidden prompt, and decoders for their replies.

Why: StrongREJECT (Souly et al. 2024) scores a model not only on plain forbidden prompts but on
how well its refusals hold up when the prompt is wrapped in a jailbreak -- encoded, obfuscated,
buried among distractions or dressed up as role-play. goodness@0.1 is taken over the worst
jailbreaks per prompt, so a model that resists the plain prompt but folds under one wrapper is
caught.

The 25 deterministic official jailbreaks (``official``, the default selection) are
byte-identical to the official implementation (dsbowen/strong_reject), which the conformance
tests check on the 60-prompt set; their templates are read at run time from the official files
(:mod:`.assets`), never shipped. Without those files our own wording stands in and
:func:`assets_status` / :func:`select_jailbreaks` say ``official=False``. Our extras
(``leetspeak`` and best-of-N, Hughes et al. 2024) are in ``all`` only; best-of-N counts as
one technique (:func:`technique_scores`).

The 12 model-based official jailbreaks (PAIR, PAP's five techniques, auto_payload_splitting,
auto_obfuscation, the four translations; ``official+attacks`` or ``attacks``) need an attacker
model (``--attacker``): :mod:`.attacks` writes their prompts in an eval's pre-pass, with the
official wording, and translates the translations' answers back before grading.

Modules: :mod:`.catalog` (names), :mod:`.encodings` (code transforms), :mod:`.templates` and
:mod:`.fallback` (wrapping jailbreaks), :mod:`.assets` (official files), :mod:`.decoders`,
:mod:`.best_of_n`, :mod:`.registry`, :mod:`.names` (selection), :mod:`.apply_file`,
:mod:`.attacks` (model-based).
"""

from __future__ import annotations

from deliberate.evals.jailbreaks.apply_file import apply_to_file
from deliberate.evals.jailbreaks.assets import AssetsStatus, assets_status
from deliberate.evals.jailbreaks.best_of_n import (
    bon_augment,
    technique_of,
    technique_scores,
    variant_of,
)
from deliberate.evals.jailbreaks.catalog import (
    BEST_OF_N,
    DEFAULT_JAILBREAKS,
    MODEL_BASED_OFFICIAL,
    OFFICIAL_JAILBREAKS,
)
from deliberate.evals.jailbreaks.decoders import extract_base64
from deliberate.evals.jailbreaks.names import (
    JailbreakSelection,
    jailbreak_names,
    select_jailbreaks,
)
from deliberate.evals.jailbreaks.registry import (
    JAILBREAKS,
    Jailbreak,
    apply_jailbreak,
    decode_response,
    get_jailbreak,
)

__all__ = [
    "BEST_OF_N",
    "DEFAULT_JAILBREAKS",
    "JAILBREAKS",
    "MODEL_BASED_OFFICIAL",
    "OFFICIAL_JAILBREAKS",
    "AssetsStatus",
    "Jailbreak",
    "JailbreakSelection",
    "apply_jailbreak",
    "apply_to_file",
    "assets_status",
    "bon_augment",
    "decode_response",
    "extract_base64",
    "get_jailbreak",
    "jailbreak_names",
    "select_jailbreaks",
    "technique_of",
    "technique_scores",
    "variant_of",
]
