"""The evaluation report: compare evaluation runs on one self-contained HTML page.

``build_report(run_dirs, out)`` recomputes each suite's headline metrics from ``results.jsonl``
with 95% bootstrap intervals over prompts, and with two or more runs each metric's change against
the first run with a paired-bootstrap interval (:mod:`deliberate.report.paired`); says per metric
whether it can be compared with published results; draws the robustness vs. overrefusal (Pareto)
plot and per-jailbreak / per-type / per-category bars; and shows example responses per run and,
for later runs, the same prompts before and after where the grade changed.
"""

from __future__ import annotations

from deliberate.report.bootstrap import Interval, bootstrap_metric, bootstrap_suite
from deliberate.report.build import ReportConfig, build_report, run_report
from deliberate.report.paired import paired_delta, paired_suite

__all__ = [
    "Interval", "ReportConfig", "bootstrap_metric", "bootstrap_suite", "build_report",
    "paired_delta", "paired_suite", "run_report",
]
