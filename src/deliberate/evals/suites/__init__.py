"""The evaluation suites. Runner, metrics, bootstrap and report iterate over :data:`SUITES`.

Adding a suite: write a module defining an object that satisfies :class:`Suite` and append it
to :data:`SUITES` below (tests append their own at run time). Unknown names are usage errors.
"""

from __future__ import annotations

from deliberate.errors import DeliberateError
from deliberate.evals.suites.base import (
    Bars,
    EvalItem,
    GradeContext,
    Metric,
    Suite,
    Target,
    Tier,
)
from deliberate.evals.suites.capability import CAPABILITY
from deliberate.evals.suites.spec import SPEC
from deliberate.evals.suites.strongreject import STRONGREJECT
from deliberate.evals.suites.xstest import XSTEST

SUITES: list[Suite] = [STRONGREJECT, XSTEST, SPEC, CAPABILITY]

__all__ = ["SUITES", "Bars", "EvalItem", "GradeContext", "Metric", "Suite", "Target", "Tier",
           "get_suite", "suite_names"]


def suite_names() -> list[str]:
    """The names of the known suites, in report order."""
    return [suite.name for suite in SUITES]


def get_suite(name: str) -> Suite:
    """The suite called ``name``; an unknown name is a usage error listing the known ones."""
    for suite in SUITES:
        if suite.name == name:
            return suite
    raise DeliberateError(f"unknown suite '{name}' (suites: {', '.join(suite_names())})")
