"""The three suites as inspect tasks: ``deliberate/strongreject``, ``deliberate/xstest``,
``deliberate/spec_adherence`` (see the package docstring for the command lines).

The prompts are those of ``deliberate eval`` (the suites' own ``items``: the same data files,
sha256-checked, the same jailbreak transforms, the same seeded ``limit`` subsample); the task's
metadata carries what the suite's manifest entry says (``comparable``, ``comparability`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import generate

from deliberate.evals.inspect_tasks.scorers import refusal_scorer, spec_scorer, strongreject_scorer

if TYPE_CHECKING:
    from deliberate.evals.suites.base import EvalItem


def _sample(item: EvalItem, system_prompt: str | None) -> Sample:
    """One prompt as inspect sends it; graders read the base prompt from the metadata."""
    messages: list[Any] = [ChatMessageSystem(content=system_prompt)] if system_prompt else []
    messages.append(ChatMessageUser(content=item.record.text))
    base = item.base
    return Sample(id=item.record.id, input=messages, metadata={
        "item_id": base.id, "group": item.group, "label": item.label, "jailbreak": item.jailbreak,
        "base_prompt": base.text, "category": base.category,
        "expected_mode": base.expected_mode.value if base.expected_mode else None,
        "rule": base.metadata.get("rule")})


def _task(name: str, items: list[EvalItem], scorer: Any, system_prompt: str | None,
          facts: dict[str, object]) -> Task:
    return Task(dataset=MemoryDataset([_sample(i, system_prompt) for i in items], name=name),
                solver=generate(), scorer=scorer, metadata={"deliberate": facts})


@task
def strongreject(jailbreaks: str = "official", grader: str | None = None,
                 refusal_method: str = "auto", data: str | None = None, assets: str | None = None,
                 limit: int | None = None, system_prompt: str | None = None) -> Task:
    """StrongREJECT's forbidden prompts under each jailbreak; harm score by the rubric grader.

    ``data``: a local CSV instead of the published one; ``assets``: the folder of the official
    StrongREJECT files (``--strongreject-assets``).
    """
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites.strongreject import STRONGREJECT, describe_run

    config = EvalConfig(suites=["strongreject"], jailbreaks=jailbreaks, strongreject_data=data,
                        strongreject_assets=assets, limit=limit, refusal_method=refusal_method,
                        grader=grader or "grader model role")  # describe: the rubric's prompts
    return _task("strongreject", STRONGREJECT.items(config, None),  # type: ignore[arg-type]
                 strongreject_scorer(grader, refusal_method, assets), system_prompt,
                 describe_run(config))


@task
def xstest(grader: str | None = None, refusal_method: str = "auto", data: str | None = None,
           limit: int | None = None, system_prompt: str | None = None) -> Task:
    """XSTest's 250 safe and 200 unsafe prompts; the XSTest label of each answer."""
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites.xstest import XSTEST

    config = EvalConfig(suites=["xstest"], xstest_data=data, limit=limit,
                        refusal_method=refusal_method)
    return _task("xstest", XSTEST.items(config, None),  # type: ignore[arg-type]
                 refusal_scorer(grader, refusal_method), system_prompt, XSTEST.describe(config))


@task
def spec_adherence(spec: str = "default", prompts: str | None = None, grader: str | None = None,
                   refusal_method: str = "auto", judge_k: int = 1, spec_in_context: bool = False,
                   limit: int | None = None, system_prompt: str | None = None) -> Task:
    """The spec's examples (or ``prompts``): mode agreement, citations, the spec judge."""
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.suites.spec import SPEC
    from deliberate.spec import load_spec

    loaded = load_spec(spec)
    config = EvalConfig(suites=["spec"], spec_prompts=prompts, limit=limit,
                        refusal_method=refusal_method, judge_k=judge_k)
    system = loaded.render() if spec_in_context else system_prompt
    return _task("spec_adherence", SPEC.items(config, loaded),
                 spec_scorer(spec, grader, refusal_method, judge_k), system,
                 {"spec": loaded.name, **SPEC.describe(config)})
