"""``deliberate eval``: sample a model's responses on the suites, grade them, write metrics.

Responses go through the cached, resumable backend runner, so an interrupted evaluation picks up
where it stopped and re-grading is free. Graders see only the final answer, never the reasoning.

``OUT/`` holds ``manifest.json`` (a :class:`~deliberate.records.provenance.Provenance`),
``metrics.json`` (``{suite: {metric: value, ...}}``) and ``<suite>/results.jsonl`` (one
:class:`~deliberate.records.evaluation.EvalResult` per prompt, jailbreak and sample). The report
reads only these files, so runs made on different machines compare directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deliberate.evals.config import EvalConfig
from deliberate.evals.suites import EvalItem, GradeContext, Suite, Target, get_suite
from deliberate.records.evaluation import EvalResult

if TYPE_CHECKING:
    from deliberate.llm import Backend, BackendOptions
    from deliberate.records.provenance import Provenance
    from deliberate.records.stage_output import StageResult
    from deliberate.spec import Spec


def run_eval(config: EvalConfig, *, model: str | Backend, out: Path, spec: Spec,
             options: BackendOptions | None = None,
             max_failure_rate: float | None = None) -> dict[str, dict]:
    """Run every suite of ``config`` on ``model``; returns ``{suite: metrics}``, writes ``out``.

    Raises :class:`~deliberate.errors.StageFailed` (after writing everything, the manifest
    marked failed) when more than ``max_failure_rate`` of the items could not be graded.
    """
    from deliberate.evals.metrics import suite_metrics
    from deliberate.llm import get_backend
    from deliberate.records.jsonl import write_jsonl
    from deliberate.records.stage_output import write_json_atomic

    suites = [get_suite(name) for name in config.suites]
    manifest = eval_provenance(config, model, spec, suites, options)
    # one backend for the evaluated model: PAIR asks it while writing its prompts, then the
    # sampling does (a local model loads once)
    target = Target(get_backend(model, options) if isinstance(model, str) else model, options)
    items = {s.name: _prefixed(s, s.items(config, spec, target)) for s in suites}
    sampled = _sample(config, target.model, spec, options,
                      [i for s in suites for i in items[s.name]])
    ctx = GradeContext(config, spec, options)
    metrics: dict[str, dict] = {}
    for suite in suites:
        results = grade_suite(suite, items[suite.name], _slice(sampled, suite.name), ctx)
        write_jsonl(Path(out) / suite.name / "results.jsonl", results)
        metrics[suite.name] = suite_metrics(suite, results)
    write_json_atomic(Path(out) / "metrics.json", metrics)
    _finish(manifest, metrics, Path(out), max_failure_rate)
    return metrics


def _finish(manifest: Provenance, metrics: dict[str, dict], out: Path,
            max_failure_rate: float | None) -> None:
    """Save the manifest: done, or failed when too many items have no grade."""
    from deliberate.errors import StageFailed
    from deliberate.records.stage_output import DEFAULT_MAX_FAILURE_RATE, check_failure_rate

    total = sum(int(m.get("n_items", 0)) for m in metrics.values())
    failed = sum(int(m.get("n_errors", 0)) for m in metrics.values())
    rate = DEFAULT_MAX_FAILURE_RATE if max_failure_rate is None else max_failure_rate
    try:
        check_failure_rate("eval", total, failed, rate, out / "<suite>/results.jsonl (error field)")
    except StageFailed as exc:
        manifest.finish("failed", str(exc)).save(out)
        raise
    manifest.finish().save(out)


def _prefixed(suite: Suite, items: list[EvalItem]) -> list[EvalItem]:
    """Request ids unique across suites: ``<suite>::<id>``."""
    return [i._replace(record=i.record.model_copy(update={"id": f"{suite.name}::{i.record.id}"}))
            for i in items]


def _sample(config: EvalConfig, model: str | Backend, spec: Spec, options: BackendOptions | None,
            items: list[EvalItem]) -> StageResult:
    """All suites' prompts in one run: a local model loads once and fills whole batches."""
    from deliberate.generate.sample import run_sample

    return run_sample(config.sample_config(spec), [i.record for i in items], model=model,
                      options=options, stage="eval " + ",".join(config.suites))


def _slice(sampled: StageResult, suite: str) -> StageResult:
    from deliberate.records.stage_output import StageResult

    prefix = f"{suite}::"
    return StageResult([r for r in sampled.records if r.prompt_id.startswith(prefix)],
                       [f for f in sampled.failures if f.id.startswith(prefix)], sampled.usage)


def grade_suite(suite: Suite, items: list[EvalItem], sampled: StageResult,
                ctx: GradeContext) -> list[EvalResult]:
    """One EvalResult per sampled response (or per failed request, with its error), graded."""
    from deliberate.evals.grading import grade_refusals
    from deliberate.evals.jailbreaks import decode_response

    by_id = {i.record.id: i for i in items}
    graded: list[tuple[EvalResult, EvalItem]] = []
    for rec in sampled.records:
        item = by_id[rec.prompt_id]
        answer = decode_response(item.jailbreak, rec.answer) if item.jailbreak else rec.answer
        graded.append((_result(suite, item, answer=answer, sample_index=rec.sample_index,
                               reasoning=rec.reasoning), item))
    failed = [_result(suite, by_id[f.id.rsplit("#", 1)[0]], answer="",
                      error=f"generation failed: {f.error}") for f in sampled.failures]
    model_decode = getattr(suite, "decode", None)  # e.g. translating answers back to English
    if model_decode is not None:
        model_decode(graded, ctx)
    if getattr(suite, "refusal_labels", True):  # a suite may need none (capability)
        # graders see the original request (not the jailbreak wrapper) and the decoded answer
        grades = grade_refusals([i.base.text for _, i in graded], [r.answer for r, _ in graded],
                                grader=ctx.config.grader, method=ctx.config.refusal_method,
                                options=ctx.options)
        for (r, _), label, error in zip(graded, grades.labels, grades.errors):
            r.refusal, r.error = label, error
            r.details["refusal_grader"] = grades.method
    suite.grade(graded, ctx)
    return [r for r, _ in graded] + failed


def _result(suite: Suite, item: EvalItem, **fields: object) -> EvalResult:
    return EvalResult(suite=suite.name, item_id=item.base.id, group=item.group, label=item.label,
                      prompt=item.record.text, request=item.base.text, **fields)


def eval_provenance(config: EvalConfig, model: str | Backend, spec: Spec, suites: list[Suite],
                    options: BackendOptions | None = None) -> Provenance:
    """The eval run's manifest: config, spec, the evaluated model pinned to its weights, what
    each suite says of itself (``details.suites``: the jailbreaks run, comparability ...) and,
    with a reasoning budget, how it is enforced (a backend that cannot enforce one is an error)."""
    from deliberate.llm.refs import reasoning_budget_support
    from deliberate.records.provenance import ModelInfo, Provenance, SpecInfo

    details: dict[str, object] = {}
    if config.reasoning_budget is not None:
        ref = model if isinstance(model, str) else model.ref
        details["reasoning_budget"] = {"tokens": config.reasoning_budget,
                                       "enforced": reasoning_budget_support(ref, options)}
    described = {suite.name: suite.describe(config) for suite in suites}
    jailbreaks = described.get("strongreject", {}).get("jailbreaks", [])
    models = {"evaluated": ModelInfo.of(model)}
    if described.get("strongreject", {}).get("model_based"):
        models["attacker"] = ModelInfo.of(config.attacker)
    return Provenance.start("eval", config.model_dump(mode="json"), label=config.label,
                            spec=SpecInfo.of(spec), models=models,
                            details={"jailbreaks": jailbreaks, "suites": described, **details})
