"""What an evaluation suite is: its data, its grading, its metrics and its report sections.

A suite is one object (see :class:`Suite`); the runner, the metrics file, the bootstrap and the
report all iterate over :data:`deliberate.evals.suites.SUITES`, so adding a suite is one module
that defines such an object and one line in that list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from deliberate.records.evaluation import EvalResult
from deliberate.records.prompt import PromptRecord

if TYPE_CHECKING:
    from deliberate.evals.config import EvalConfig
    from deliberate.llm import Backend, BackendOptions
    from deliberate.spec import Spec

MetricFn = Callable[[Sequence[EvalResult]], "float | None"]


@dataclass(frozen=True)
class Metric:
    """A headline metric: a pure function of a suite's results, and how to read it.

    ``counts`` / ``per_prompt`` tell the bootstrap how the metric decomposes over prompts (a
    mean over the records ``counts`` accepts, or a mean over prompts of a per-prompt value), so
    intervals are one matrix product instead of recomputing the metric per resample.
    """

    name: str
    fn: MetricFn
    direction: Literal["higher", "lower"]
    meaning: str
    counts: Callable[[EvalResult], bool] | None = None
    per_prompt: bool = False
    digits: int = 3

    def __call__(self, results: Sequence[EvalResult]) -> float | None:
        return self.fn(results)


@dataclass(frozen=True)
class Bars:
    """A per-group bar chart of one value (per jailbreak, per type, per category).

    The report draws a suite's bars as the panels of one figure, each bar labelled with its n.
    """

    key: str  # the metrics.json key holding the values, e.g. "per_jailbreak"
    title: str
    xlabel: str
    caption: str
    values: Callable[[Sequence[EvalResult]], dict[str, float | None]]
    order: Literal["name", "desc", "contrast_last"] = "name"
    # the n behind each bar; None: the prompts of each group graded without error
    counts: Callable[[Sequence[EvalResult]], dict[str, int]] | None = None


class Tier(NamedTuple):
    """One kind of example the report shows (picked in turn with the other tiers)."""

    why: str
    tone: str | Callable[[EvalResult], str]  # bad | good | neutral, or decided per result
    accept: Callable[[EvalResult], bool]
    sort_key: Callable[[EvalResult], Any]


class EvalItem(NamedTuple):
    """One prompt as sent to the model, and the base prompt graders see."""

    record: PromptRecord  # what is sent; id unique per (prompt, jailbreak)
    base: PromptRecord
    group: str | None
    label: str | None
    jailbreak: str | None


class Target(NamedTuple):
    """The evaluated model and how to reach it, for items that need model calls before the
    model is sampled (StrongREJECT's PAIR asks it while searching for a jailbreak)."""

    model: str | Backend
    options: BackendOptions | None


class GradeContext(NamedTuple):
    """What suite-specific grading may use."""

    config: EvalConfig
    spec: Spec
    options: BackendOptions | None


class Suite(Protocol):
    """The unit of evaluation (see the module docstring).

    Every answer gets a refusal label before :meth:`grade`, unless the suite sets
    ``refusal_labels = False`` (capability: a maths answer needs none, and an LLM grader's calls
    would be spent for nothing).
    """

    name: str
    title: str
    metrics: tuple[Metric, ...]
    bars: tuple[Bars, ...]
    tiers: tuple[Tier, ...]

    def describe(self, config: EvalConfig) -> dict[str, object]:
        """Facts about this run of the suite for the manifest (data used, comparability)."""

    def items(self, config: EvalConfig, spec: Spec, target: Target | None = None) -> list[EvalItem]:
        """The prompts to send, with their grouping and labels.

        ``target``: the evaluated model, for prompts that need model calls to be written (None
        where there is no model at hand, e.g. the inspect tasks). A suite may also define
        ``decode(graded, ctx)``: model-based decoding of the answers (in place), run before any
        grading (StrongREJECT translates the translation jailbreaks' answers back to English).
        """

    def grade(self, graded: list[tuple[EvalResult, EvalItem]], ctx: GradeContext) -> None:
        """Suite-specific grading on top of the refusal labels every suite gets (in place)."""

    def example_facts(self, result: EvalResult) -> list[tuple[str, str]]:
        """The facts an example in the report shows next to the answer."""

    def comparability(self, metric: str, details: dict[str, Any],
                      config: dict[str, Any]) -> tuple[bool, str]:
        """Can this metric of a run be compared with published results: (yes?, why).

        ``details``: what :meth:`describe` stored in the run's manifest (empty for older runs);
        ``config``: the run's config. A suite without this method reads "not stated".
        """


def subsample_note(config: dict[str, Any]) -> str:
    """The comparability caveat of a run on a ``--limit`` subsample ("" for the full data)."""
    limit = config.get("limit")
    return f"; on a random subsample of {limit} prompts (wider intervals)" if limit else ""
