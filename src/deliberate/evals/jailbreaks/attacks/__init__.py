"""The model-based official jailbreaks: prompts an attacker model writes (``--attacker``).

Why: 12 of StrongREJECT's 37 official jailbreaks are not fixed functions of the prompt. An
attacker model rewrites it (PAP's five persuasion techniques, auto_payload_splitting,
auto_obfuscation, the four translations) or searches for a prompt against the evaluated model
(PAIR). An eval runs them as a pre-pass: :func:`run_attacks` writes every such prompt (the
one-shot attacks as one batch through the cached runner, then PAIR's rounds), and the normal
flow then samples the evaluated model on them. The translations' answers are translated back
to English before grading (:func:`translate_back`, the suite's ``decode`` hook).

The wording is the official one (:mod:`.prompts` says where each text comes from), except the
translation prompt: the official code calls Google Translate, here the attacker translates,
and the run is then marked not comparable. Results depend on the attacker model; the manifest
names it. Reruns are free: every request is cached and each depends only on earlier replies.

Modules: :mod:`.prompts` (wording and settings), :mod:`.setup` (models), :mod:`.oneshot`
(PAP, auto_*, translations), :mod:`.pair`.
"""

from __future__ import annotations

from collections.abc import Sequence

from deliberate.evals.jailbreaks.attacks.oneshot import run_one_shots, translate_back
from deliberate.evals.jailbreaks.attacks.pair import run_pair
from deliberate.evals.jailbreaks.attacks.setup import Attacked, AttackSetup

__all__ = ["AttackSetup", "Attacked", "run_attacks", "translate_back"]


def run_attacks(prompts: Sequence[tuple[str, str]], names: Sequence[str],
                setup: AttackSetup) -> dict[tuple[str, str], Attacked]:
    """The jailbroken prompt of every ``(prompt id, name)``: ``prompts`` are ``(id, forbidden
    prompt)`` pairs, ``names`` model-based jailbreaks (:data:`..catalog.MODEL_BASED_OFFICIAL`)."""
    one_shots = [name for name in names if name != "pair"]
    found = run_one_shots(prompts, one_shots, setup) if one_shots and prompts else {}
    if "pair" in names and prompts:
        found.update({(key, "pair"): attacked for key, attacked in run_pair(prompts, setup).items()})
    return found
