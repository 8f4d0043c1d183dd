"""What the ``inspect_ai`` entry point loads: the tasks and scorers, registered by name."""

from deliberate.evals.inspect_tasks.scorers import (  # noqa: F401
    refusal_scorer,
    spec_scorer,
    strongreject_scorer,
    suite_metrics,
)
from deliberate.evals.inspect_tasks.tasks import spec_adherence, strongreject, xstest  # noqa: F401
