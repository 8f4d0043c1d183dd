"""StrongREJECT's model-based jailbreaks inside an eval: the pre-pass and the post-pass.

Why: the suite's items and grading stay the normal flow; this module is what the attacks add
around it. Before the evaluated model is sampled, :func:`attack_prompts` has the attacker
write every model-based jailbreak's prompt (PAIR probing the evaluated model as the eval asks
it); after sampling and before any grading, :func:`translate_answers` has the attacker
translate the translation jailbreaks' answers back to English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks.catalog import MODEL_BASED_OFFICIAL, TRANSLATIONS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from deliberate.evals.config import EvalConfig
    from deliberate.evals.jailbreaks.attacks import Attacked
    from deliberate.evals.suites.base import EvalItem, GradeContext, Target
    from deliberate.records.evaluation import EvalResult
    from deliberate.records.prompt import PromptRecord
    from deliberate.spec import Spec


def attack_prompts(bases: Sequence[PromptRecord], names: Sequence[str], config: EvalConfig,
                   spec: Spec | None, target: Target | None) -> dict[tuple[str, str], Attacked]:
    """The attacker's prompt for every (base prompt id, model-based jailbreak) of the run."""
    attacks = [name for name in names if name in MODEL_BASED_OFFICIAL]
    if not attacks or not bases:
        return {}
    from deliberate.evals.jailbreaks.attacks import AttackSetup, run_attacks

    setup = AttackSetup.build(
        _attacker(config, attacks), target.options if target else None, judge=config.grader,
        target=target.model if target else None, sampling=config.sample_config(spec),
        assets_dir=config.strongreject_assets)
    return run_attacks([(base.id, base.text) for base in bases], attacks, setup)


def _attacker(config: EvalConfig, attacks: list[str]) -> str:
    if config.attacker is None:  # EvalConfig refuses this; a config built around it lands here
        raise DeliberateError(f"the jailbreaks {', '.join(attacks)} are model-based: they need "
                              "an attacker model (--attacker MODEL)")
    return config.attacker


def translate_answers(graded: list[tuple[EvalResult, EvalItem]], ctx: GradeContext) -> None:
    """Each translation jailbreak's answer in English (the raw answer kept in ``details``).

    A failed translation leaves the answer as it was (as the official decoder returns its
    input when the translation fails) and says so in ``details["translation_error"]``.
    """
    todo = [(r, item) for r, item in graded if item.jailbreak in TRANSLATIONS and r.answer.strip()]
    if not todo:
        return
    from deliberate.evals.jailbreaks.attacks import AttackSetup, translate_back

    names = sorted({item.jailbreak or "" for _, item in todo})
    setup = AttackSetup.build(_attacker(ctx.config, names), ctx.options)
    back = translate_back([(f"{i.record.id}#{r.sample_index}", i.jailbreak or "", r.answer)
                           for r, i in todo], setup)
    for (r, _), parsed in zip(todo, back):
        r.details["answer_untranslated"] = r.answer
        r.details["translated_by"] = setup.attacker_ref
        if parsed.value is None:
            r.details["translation_error"] = parsed.error
            continue
        r.answer = parsed.value


def attack_facts(config: EvalConfig, names: Sequence[str]) -> dict[str, Any]:
    """What the manifest says of the model-based jailbreaks of a run (empty without any)."""
    attacks = [name for name in names if name in MODEL_BASED_OFFICIAL]
    if not attacks:
        return {}
    return {"attacker": config.attacker, "model_based": attacks,
            "pair_judge": (config.grader or config.attacker) if "pair" in attacks else None,
            "attack_note": f"model-based jailbreaks ({len(attacks)}) written by the attacker "
                           f"{config.attacker}: their results depend on the attacker model"}
