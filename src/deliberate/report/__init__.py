"""The evaluation report: compare evaluation runs on one self-contained HTML page.

``build_report(run_dirs, out)`` recomputes each suite's headline metrics from ``results.jsonl``
with 95% bootstrap intervals over prompts, draws the robustness vs. overrefusal (Pareto) plot and
per-jailbreak / per-type / per-category bars, and shows a few example responses per run.
"""

from __future__ import annotations

from deliberate.report.bootstrap import Interval, bootstrap_metric, bootstrap_suite
from deliberate.report.build import ReportConfig, build_report, run_report

__all__ = [
    "Interval", "ReportConfig", "bootstrap_metric", "bootstrap_suite", "build_report", "run_report",
]
