"""``deliberate report``: compare evaluation runs on one HTML page (and a Markdown twin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from deliberate.cli.common import config_file_option, read_config_file, settings
from deliberate.cli.options import GroupedCommand, config_options
from deliberate.report.build import ReportConfig


@click.command("report", cls=GroupedCommand)
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path),
                metavar="RUN_DIR...")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("report.html"),
              show_default=True, help="HTML file to write (the .md goes next to it).")
@config_file_option
@config_options(ReportConfig)
def report(run_dirs: tuple[Path, ...], out: Path, config_file: Path | None, **kwargs: Any) -> None:
    """Build a report comparing evaluation runs: metrics with 95% CIs, plots, examples.

    RUN_DIR is the folder of `deliberate eval`, or of `deliberate run` (its eval runs).
    """
    from deliberate.report.build import run_report

    config = settings(kwargs, ReportConfig, read_config_file(config_file))
    html = run_report(config, list(run_dirs), out)
    click.echo(f"report: {html}")
    click.echo(f"markdown: {html.with_suffix('.md')}")
