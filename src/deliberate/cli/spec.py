"""``deliberate spec``: validate, show and list a safety spec."""

from __future__ import annotations

import click

from deliberate.records.modes import NONE_CATEGORY

SPEC_ARG = click.argument("path", metavar="SPEC")


@click.group("spec", no_args_is_help=True)
def spec_group() -> None:
    """Validate and inspect a safety spec (YAML file, or 'default' for the shipped one)."""


@spec_group.command("validate")
@SPEC_ARG
def validate(path: str) -> None:
    """Check a spec file against the schema; exit 0 if valid, 2 with the reason if not."""
    from deliberate.spec import load_spec

    spec = load_spec(path)
    rules = sum(len(c.rules) for c in spec.categories)
    click.echo(f"ok: {path}: spec '{spec.name}' v{spec.version}, {len(spec.categories)} categories, "
               f"{rules} rules, {len(spec.style_guidelines)} style guidelines")


@spec_group.command("show")
@SPEC_ARG
@click.option("--category", "-c", default=None,
              help=f"Show the excerpt a model sees for this category ('{NONE_CATEGORY}': style only).")
@click.option("--hash", "show_hash", is_flag=True, help="Also print the content hash.")
def show(path: str, category: str | None, show_hash: bool) -> None:
    """Print the rendered spec, or the excerpt a model sees for one category."""
    from deliberate.errors import DeliberateError
    from deliberate.spec import load_spec

    spec = load_spec(path)
    if category is not None and category != NONE_CATEGORY and category not in spec.category_ids:
        known = ", ".join([*spec.category_ids, NONE_CATEGORY])
        raise DeliberateError(f"unknown category '{category}' (spec '{spec.name}' has: {known})")
    text = spec.render() if category is None else spec.for_category(category)
    click.echo(text, nl=False)
    if show_hash:
        digest = spec.content_hash if category is None else spec.excerpt_hash(category)
        click.echo(f"\n<!-- content hash: {digest} -->")


@spec_group.command("categories")
@SPEC_ARG
def categories(path: str) -> None:
    """List the spec's categories, one a line: id, a tab, title."""
    from deliberate.spec import load_spec

    for cat in load_spec(path).categories:
        click.echo(f"{cat.id}\t{cat.title}")
