"""``deliberate demo``: the method end to end, offline, on Gemma 3 270M."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("demo-out"),
              show_default=True, help="Where to write report.html and summary.json.")
@click.option("--quick", is_flag=True, help="Smaller run (about 5 minutes on 2 CPU cores).")
@click.option("--student", default=None, help="Another hf/ model instead of Gemma 3 270M.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder with xstest/ and strongreject/ CSVs (must exist; default: "
                   "$DELIBERATE_DATA_DIR, else ../shared/data when there).")
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Override the SFT steps.")
@click.option("--spec-in-context", is_flag=True,
              help="Also evaluate the base model with the spec's summary in its system prompt (the "
                   "paper's inference-time baseline); ~30 s a prompt on 2 CPU cores, so on 4 prompts "
                   "per suite.")
def demo(out: Path, quick: bool, student: str | None, data_dir: Path | None, max_steps: int | None,
         spec_in_context: bool) -> None:
    """Evaluate a base model, fine-tune it on the shipped seed set, evaluate again, report."""
    from rich.console import Console
    from rich.table import Table

    from deliberate.pipeline.demo import RUNS, run_demo

    console = Console(stderr=True, highlight=False)
    summary = run_demo(out, quick=quick, student=student, data_dir=data_dir, max_steps=max_steps,
                       spec_in_context=spec_in_context, log=lambda text: console.print(text, markup=False))
    table = Table(title=f"deliberate demo ({summary['wall_seconds']:.0f}s) -> {out / 'report.html'}")
    runs = [r for r in RUNS if r in summary["refusal_rate_disallowed"]]
    for column in ("metric", *runs):
        table.add_column(column)
    for key in ("refusal_rate_disallowed", "compliance_rate_benign", "valid_citation_rate",
                "strongreject_refusal_rate", "gsm8k_accuracy"):
        row = summary[key]
        table.add_row(key, *("n/a" if row.get(k) is None else f"{row[k]:.2f}" for k in runs))
    Console().print(table)
