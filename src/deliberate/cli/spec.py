"""``deliberate spec``: validate, show and list a safety spec."""

from __future__ import annotations

from pathlib import Path

import typer

from deliberate.spec import NONE_CATEGORY, load_spec

app = typer.Typer(help="Validate and inspect a safety spec (YAML).", no_args_is_help=True)

SpecArg = typer.Argument(..., help="Spec YAML file, or 'default' for the shipped spec.")


@app.command("validate")
def validate(path: Path = SpecArg) -> None:
    """Check a spec file against the schema; exit 0 if valid, 2 with the reason if not."""
    spec = load_spec(path)
    rules = sum(len(c.rules) for c in spec.categories)
    typer.echo(
        f"ok: {path}: spec '{spec.name}' v{spec.version}, {len(spec.categories)} categories, "
        f"{rules} rules, {len(spec.style_guidelines)} style guidelines"
    )


@app.command("show")
def show(
    path: Path = SpecArg,
    category: str | None = typer.Option(
        None, "--category", "-c", help=f"Show only this category's excerpt ('{NONE_CATEGORY}': style only)."
    ),
    show_hash: bool = typer.Option(False, "--hash", help="Also print the excerpt's content hash."),
) -> None:
    """Print the rendered spec, or the excerpt a model sees for one category."""
    spec = load_spec(path)
    if category is not None and category != NONE_CATEGORY:
        _require_category(spec, category)
    text = spec.render() if category is None else spec.for_category(category)
    typer.echo(text, nl=False)
    if show_hash:
        digest = spec.content_hash if category is None else spec.excerpt_hash(category)
        typer.echo(f"\n<!-- content hash: {digest} -->")


@app.command("categories")
def categories(path: Path = SpecArg) -> None:
    """List the spec's categories, one a line: id, a tab, title."""
    spec = load_spec(path)
    for cat in spec.categories:
        typer.echo(f"{cat.id}\t{cat.title}")


def _require_category(spec, category: str) -> None:
    from deliberate.errors import DeliberateError

    if category not in spec.category_ids:
        known = ", ".join([*spec.category_ids, NONE_CATEGORY])
        raise DeliberateError(f"unknown category '{category}' (spec '{spec.name}' has: {known})")
