"""``deliberate spec``: validate, show, list and lint a safety spec."""

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


@spec_group.command("lint")
@SPEC_ARG
@click.option("--max-tokens", type=int, default=None,
              help="Also flag any excerpt over this many (approximate) tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def lint(path: str, max_tokens: int | None, as_json: bool) -> int:
    """Find gaps in a spec: categories with no allowed rule, no examples or no borderline pair,
    rules no example exercises, examples without a reference answer, unused definitions; and
    print each category's excerpt size. Exit 0 when clean, 1 with findings, 2 if invalid."""
    import json

    from deliberate.spec import load_spec
    from deliberate.spec.lint import TOKENS_METHOD, lint_spec

    spec = load_spec(path)
    report = lint_spec(spec, max_excerpt_tokens=max_tokens)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return 0 if report.clean else 1
    rules = sum(len(c.rules) for c in spec.categories)
    examples = sum(len(c.examples) for c in spec.categories)
    click.echo(f"spec '{spec.name}' v{spec.version} (format {spec.spec_format}): "
               f"{len(spec.categories)} categories, {rules} rules, {len(spec.definitions)} "
               f"definitions, {examples} examples")
    click.echo(f"excerpt tokens ({TOKENS_METHOD}):")
    width = max(len(c) for c in report.excerpt_tokens)
    for cid, tokens in report.excerpt_tokens.items():
        click.echo(f"  {cid:<{width}}  {tokens:>6,}")
    if report.clean:
        click.echo("clean: no findings")
        return 0
    click.echo(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}:")
    for f in report.findings:
        click.echo(f"  {f.where}: {f.message} [{f.kind}]")
    return 1
