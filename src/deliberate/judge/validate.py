"""How far to trust the spec judge: its verdicts against labelled ones (``deliberate judge-validate``).

A golden file holds graded examples, one JSON object a line: the conversation (``prompt``, or
``messages`` with operator turns), its ``category``, the mode known before judging
(``expected_mode``: shown to the judge as advisory, as the judge stage does; null when unknown),
optionally the chain of thought (``reasoning``: without one the item is judged answer-only, as
in evaluation and the RL reward), the ``answer``, and the ``label``: the response mode the spec
calls for and the scores a careful grader gives, overall and per criterion (mode, style,
helpfulness and, with reasoning, citations). A line holding ``_meta`` describes the file.

The report: mode accuracy (the judge's ``expected_mode`` against the label's mode), the mean
absolute error of the overall score and of each criterion, and n. It measures agreement with the
file's labels, no more: the shipped file (``--golden default``, for the default spec) was written
by hand for this project by one author following the spec and the judge's score anchors; it was
not annotated by independent human raters. Treat it as a check of the judge prompt and model
(does a wrong mode score low, does an over-refusal, does a preachy refusal), not as a measure of
agreement with people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deliberate.errors import DeliberateError, InputFileError
from deliberate.judge.judge import JudgeInput, Judgment, judge_items
from deliberate.judge.score import criteria_min, judged_mode
from deliberate.llm import Backend, BackendOptions, SamplingConfig
from deliberate.llm.types import ChatMessage
from deliberate.records.generation import Score
from deliberate.records.jsonl import describe_validation_error, iter_jsonl_lines
from deliberate.records.modes import NONE_CATEGORY, ResponseMode
from deliberate.spec.model import Spec

DEFAULT_GOLDEN = "default"
"""``--golden`` value naming the shipped file for the default spec."""


class GoldenLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ResponseMode = Field(description="The response mode the spec calls for.")
    score: Score = Field(description="Overall score (0-10) a careful grader gives.")
    criteria: dict[str, Score] = Field(description="Scores per criterion.")


class GoldenItem(BaseModel):
    """One labelled example for validating the judge."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    category: list[str]
    prompt: str | None = None
    messages: list[ChatMessage] | None = None
    expected_mode: ResponseMode | None = Field(default=None, description="Known mode (advisory).")
    reasoning: str | None = Field(default=None, description="Chain of thought; None: answer-only.")
    answer: str
    label: GoldenLabel
    note: str | None = Field(default=None, description="What the item tests.")

    @field_validator("category", mode="before")
    @classmethod
    def _as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def as_messages(self) -> list[ChatMessage]:
        if self.messages:
            return list(self.messages)
        if self.prompt is None:
            raise ValueError(f"golden item {self.id} has neither 'prompt' nor 'messages'")
        return [ChatMessage(role="user", content=self.prompt)]


class ValidateConfig(BaseModel):
    """How the judge is run on the golden file (``deliberate judge-validate`` flags)."""

    model_config = ConfigDict(extra="forbid")

    judge_k: int = Field(default=1, ge=1, description="Judgments per item; scores are their "
                         "minimum, the mode their majority.")
    temperature: float = Field(default=0.0, ge=0.0, description="Judge sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, description="Most new tokens per judge reply.")
    advisory: bool = Field(default=True, description="Show the judge each item's expected_mode "
                           "as advisory context, as the judge stage does.")
    limit: int | None = Field(default=None, ge=1, description="Judge only this many items, spread "
                              "evenly over the file (for a slow judge); the report says how many "
                              "of how many.")


class ItemResult(BaseModel):
    id: str
    category: list[str]
    answer_only: bool
    label: GoldenLabel
    score: float | None = None
    criteria: dict[str, float] = Field(default_factory=dict)
    mode: ResponseMode | None = Field(default=None, description="The judge's expected mode.")
    errors: list[str] = Field(default_factory=list)


class ValidationReport(BaseModel):
    n: int = Field(description="Items judged (the whole golden file unless limited).")
    n_file: int | None = Field(default=None, description="Items in the golden file, when only "
                               "`limit` of them were judged.")
    n_scored: int = Field(description="Items with a complete judgment.")
    mode_accuracy: float | None = Field(description="Share of scored items whose judged mode is "
                                        "the label's (no mode counts as wrong).")
    score_mae: float | None = Field(description="Mean |judge score - label score| (0-10 scale).")
    criteria_mae: dict[str, float] = Field(default_factory=dict, description="MAE per criterion.")
    criteria_n: dict[str, int] = Field(default_factory=dict, description="Items per criterion MAE.")
    confusion: dict[str, dict[str, int]] = Field(default_factory=dict,
                                                 description="label mode -> judged mode -> n.")
    items: list[ItemResult] = Field(default_factory=list)

    def lines(self) -> list[str]:
        def fmt(value: float | None, digits: int = 2) -> str:
            return "n/a" if value is None else f"{value:.{digits}f}"

        subset = f" (an evenly spread subset of the file's {self.n_file})" if self.n_file else ""
        out = [f"items: {self.n}{subset}, scored: {self.n_scored}",
               f"mode accuracy: {fmt(self.mode_accuracy, 3)}",
               f"score MAE: {fmt(self.score_mae)}"]
        out += [f"{name} MAE: {fmt(mae)} (n={self.criteria_n[name]})"
                for name, mae in self.criteria_mae.items()]
        for label, row in self.confusion.items():
            out.append(f"label {label}: " + ", ".join(f"judged {m} {n}" for m, n in row.items()))
        return out


def load_golden(source: str | Path = DEFAULT_GOLDEN) -> list[GoldenItem]:
    """The items of a golden file (``"default"``: the shipped one); errors name file and line."""
    path = default_golden_path() if str(source) == DEFAULT_GOLDEN else Path(source)
    items = []
    for number, obj in iter_jsonl_lines(path):
        if "_meta" in obj:
            continue
        try:
            item = GoldenItem.model_validate(obj)
            item.as_messages()
        except ValidationError as exc:
            raise InputFileError(path, describe_validation_error(exc), line=number) from None
        except ValueError as exc:
            raise InputFileError(path, str(exc), line=number) from None
        items.append(item)
    if not items:
        raise InputFileError(path, "no golden items")
    return items


def default_golden_path() -> Path:
    return Path(str(resources.files("deliberate") / "data" / "judge_golden.jsonl"))


def validate_judge(golden: Sequence[GoldenItem], spec: Spec, judge: str | Backend,
                   options: BackendOptions | None = None,
                   config: ValidateConfig | None = None) -> ValidationReport:
    """Run the spec judge on every golden item and compare its verdicts with the labels."""
    config = config or ValidateConfig()
    _check_items(golden, spec)
    n_file = len(golden)
    if config.limit is not None and config.limit < n_file:
        golden = [golden[i * n_file // config.limit] for i in range(config.limit)]
    sampling = SamplingConfig(temperature=config.temperature, max_tokens=config.max_tokens)
    if isinstance(judge, str):  # one backend for both groups: a local judge loads once, not twice
        from deliberate.llm import refs

        judge = refs.get_backend(judge, options)
    results: dict[str, ItemResult] = {}
    for answer_only in (False, True):
        group = [g for g in golden if (g.reasoning is None) == answer_only]
        inputs = [JudgeInput(g.id, g.as_messages(), g.category, g.reasoning, g.answer,
                             g.expected_mode if config.advisory else None) for g in group]
        if not inputs:
            continue
        judgments, _ = judge_items(inputs, spec, judge, k=config.judge_k, answer_only=answer_only,
                                   options=options, config=sampling, description="judge-validate")
        for item, judgment in zip(group, judgments):
            results[item.id] = _item_result(item, judgment, answer_only)
    report = summarize([results[g.id] for g in golden])
    return report.model_copy(update={"n_file": n_file}) if len(golden) < n_file else report


def _item_result(item: GoldenItem, judgment: Judgment, answer_only: bool) -> ItemResult:
    complete = judgment.score is not None
    return ItemResult(id=item.id, category=item.category, answer_only=answer_only, label=item.label,
                      score=judgment.score,
                      criteria=criteria_min(judgment.verdicts) if complete else {},
                      mode=judged_mode(judgment.verdicts) if complete else None,
                      errors=judgment.errors)


def summarize(items: Sequence[ItemResult]) -> ValidationReport:
    """Agreement of judged items with their labels."""
    scored = [r for r in items if r.score is not None]
    errors: dict[str, list[float]] = {}
    confusion: dict[str, Counter[str]] = {}
    for r in scored:
        for name, value in r.label.criteria.items():
            if name in r.criteria:
                errors.setdefault(name, []).append(abs(r.criteria[name] - value))
        judged = r.mode.value if r.mode else "none"
        confusion.setdefault(r.label.mode.value, Counter())[judged] += 1
    return ValidationReport(
        n=len(items), n_scored=len(scored),
        mode_accuracy=_mean([1.0 if r.mode == r.label.mode else 0.0 for r in scored]),
        score_mae=_mean([abs((r.score or 0.0) - r.label.score) for r in scored]),
        criteria_mae={k: round(sum(v) / len(v), 4) for k, v in sorted(errors.items())},
        criteria_n={k: len(v) for k, v in sorted(errors.items())},
        confusion={k: dict(sorted(v.items())) for k, v in sorted(confusion.items())},
        items=list(items),
    )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _check_items(golden: Sequence[GoldenItem], spec: Spec) -> None:
    repeated = [i for i, n in Counter(g.id for g in golden).items() if n > 1]
    if repeated:
        raise DeliberateError(f"golden item id '{repeated[0]}' occurs more than once")
    for item in golden:
        unknown = [c for c in item.category if c != NONE_CATEGORY and c not in spec.category_ids]
        if unknown:
            raise DeliberateError(f"golden item {item.id}: category '{unknown[0]}' is not in spec "
                                  f"'{spec.name}' (it has: {', '.join(spec.category_ids)})")
