"""Capability: GSM8K grade-school maths, exact match on the final number.

Safety training is only worth having if the model can still do its job; GSM8K's 1,319 test
problems are a cheap, well-known check of multi-step reasoning. Each question goes out with a
short instruction (``templates/gsm8k_prompt.j2``: reason, then "#### <number>" on the last
line), zero-shot. Only the final answer is graded, never the reasoning: the number after the last
``####``, else the last number in the answer (:func:`deliberate.evals.gsm8k.extract_answer`),
compared as a decimal with the published answer. No refusal labels: a maths answer needs none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from deliberate.evals.metrics import mean
from deliberate.evals.suites.base import (
    Bars,
    EvalItem,
    GradeContext,
    Metric,
    Tier,
    subsample_note,
)
from deliberate.records.evaluation import EvalResult

if TYPE_CHECKING:
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites.base import Target
    from deliberate.spec import Spec

TEMPLATE = "gsm8k_prompt"
FORMATS = {"####": "after ####", "last_number": "last number (fallback)", "none": "no number"}
CAVEAT = "zero-shot, not the usual 8-shot: compare with care"


def gsm8k_accuracy(results: Sequence[EvalResult]) -> float | None:
    """Share of graded answers whose final number equals the published one."""
    return mean([1.0 if r.details["correct"] else 0.0 for r in results if "correct" in r.details])


def _by_format(results: Sequence[EvalResult]) -> dict[str, list[EvalResult]]:
    groups: dict[str, list[EvalResult]] = defaultdict(list)
    for r in results:
        if "correct" in r.details:
            groups[FORMATS.get(str(r.details.get("answer_format")), "no number")].append(r)
    return dict(groups)


def accuracy_by_format(results: Sequence[EvalResult]) -> dict[str, float | None]:
    """Accuracy per way the number was found (after ####, last-number fallback, none)."""
    return {fmt: gsm8k_accuracy(rs) for fmt, rs in sorted(_by_format(results).items())}


def count_by_format(results: Sequence[EvalResult]) -> dict[str, int]:
    return {fmt: len(rs) for fmt, rs in _by_format(results).items()}


class CapabilitySuite:
    """GSM8K accuracy: does safety training cost the model its reasoning?"""

    name = "capability"
    title = "Capability (GSM8K)"
    refusal_labels = False  # the runner skips the refusal grader (no LLM grader calls on maths)
    metrics = (
        Metric("gsm8k_accuracy", gsm8k_accuracy, "higher",
               "share of GSM8K test problems whose final number is right (exact match as a "
               "number; the reasoning is not graded)", counts=lambda r: "correct" in r.details),
    )
    bars = (Bars("per_answer_format", "Capability: GSM8K accuracy per answer format",
                 "accuracy (higher is better)",
                 "GSM8K accuracy by how the final number was found: after '####' as the prompt "
                 "asks, as the last number of the answer (fallback), or no number at all.",
                 accuracy_by_format, counts=count_by_format),)
    tiers = (
        Tier("wrong answer", "bad", lambda r: r.details.get("correct") is False,
             lambda r: r.details.get("answer_format") != "none"),
        Tier("right answer", "good", lambda r: r.details.get("correct") is True, lambda r: 0),
        Tier("ungraded", "neutral", lambda r: "correct" not in r.details, lambda r: 0),
    )

    def describe(self, config: EvalConfig) -> dict[str, object]:
        """The data file (sha256, published or not), the prompt, and whether comparable."""
        from deliberate.evals.gsm8k import gsm8k_source
        from deliberate.evals.public_data import GSM8K_TEST
        from deliberate.prompts import load_template

        data = gsm8k_source("test", config.capability_data)
        reasons = [data.reason(GSM8K_TEST)] if not data.official else []
        if config.temperature > 0:
            reasons.append(f"sampled at temperature {config.temperature}, not greedy")
        label = (f"GSM8K test set (published), greedy, {CAVEAT}" if not reasons
                 else f"GSM8K-style, not comparable: {'; '.join(reasons)}")
        return {"data": data.manifest(), "official": data.official, "comparable": not reasons,
                "comparability": label, "shots": 0, "template": load_template(TEMPLATE).hash}

    def comparability(self, metric: str, details: dict, config: dict) -> tuple[bool, str]:
        """Published GSM8K numbers need the published test set and greedy decoding."""
        data = details.get("data")
        if isinstance(data, dict) and data.get("official") is False:
            return False, "not the published GSM8K test set"
        if "comparable" not in details:
            return False, "the run does not record its GSM8K data"
        if not details["comparable"]:
            return False, str(details.get("comparability") or "not comparable")
        return True, f"published test set, greedy; {CAVEAT}{subsample_note(config)}"

    def items(self, config: EvalConfig, spec: Spec, target: Target | None = None) -> list[EvalItem]:
        from deliberate.evals.gsm8k import load_gsm8k
        from deliberate.prompts import load_template
        from deliberate.records.prompt import PromptRecord
        from deliberate.records.sources import subsample

        template = load_template(TEMPLATE)
        bases = [PromptRecord(id=p.id, prompt=p.question, source="gsm8k",
                              metadata={"answer": p.final})
                 for p in load_gsm8k("test", config.capability_data)]
        return [EvalItem(b.model_copy(update={"prompt": template.render(question=b.prompt)}),
                         b, None, None, None) for b in subsample(bases, config.limit)]

    def grade(self, graded: list[tuple[EvalResult, EvalItem]], ctx: GradeContext) -> None:
        from deliberate.evals.gsm8k import extract_answer, same_number

        for r, item in graded:
            gold = str(item.base.metadata["answer"])
            found = extract_answer(r.answer)  # the final answer only, never r.reasoning
            r.details.update(gold=gold, extracted=found.value, answer_format=found.how,
                             correct=same_number(found.value, gold))

    def example_facts(self, r: EvalResult) -> list[tuple[str, str]]:
        if "correct" not in r.details:
            return [("correct", "—")]
        return [("correct", "yes" if r.details["correct"] else "no"),
                ("gold", str(r.details.get("gold"))),
                ("extracted", str(r.details.get("extracted") or "—")),
                ("answer format", FORMATS.get(str(r.details.get("answer_format")), "—"))]


CAPABILITY = CapabilitySuite()
