"""spec(category) as in the paper: shared parts, a summary of every category, the full rules of
the prompt's categories only; hashes follow from that text."""

from __future__ import annotations

import re

import yaml

from deliberate.cli.app import main
from deliberate.spec import NONE_CATEGORY, load_spec
from deliberate.spec.render import GLANCE_TITLE

RULE_ITEM = re.compile(r"\*\*\[([a-z_]+\.\d+)\]\*\*")


def _full_rule_ids(excerpt: str) -> set[str]:
    return set(RULE_ITEM.findall(excerpt))


def test_default_violence_excerpt_has_every_summary_and_only_violence_rules():
    spec = load_spec("default")
    excerpt = spec.for_category("violence")
    for category in spec.categories:
        assert f"**{category.title}**" in excerpt, category.id
        assert category.summary.allowed in excerpt
    assert _full_rule_ids(excerpt) == {r.id for r in spec.category("violence").rules}
    assert excerpt.count("## Category: ") == 1
    for definition in spec.definitions:
        assert f"**[{definition.id}]**" in excerpt


def test_cli_show_default_violence(capsys):
    assert main(["spec", "show", "default", "--category", "violence"]) == 0
    out = capsys.readouterr().out
    spec = load_spec("default")
    assert all(c.title in out for c in spec.categories)
    assert _full_rule_ids(out) == {f"violence.{i}" for i in range(1, 8)}
    assert out == spec.for_category("violence")


def test_none_excerpt_has_summaries_and_no_rules():
    spec = load_spec("default")
    excerpt = spec.for_category(NONE_CATEGORY)
    assert GLANCE_TITLE in excerpt and "## Category: " not in excerpt
    assert _full_rule_ids(excerpt) == set()
    assert all(c.title in excerpt for c in spec.categories)
    assert "[style.refusal]" in excerpt and "[def.meaningful_uplift]" in excerpt


def test_summaries_never_name_rule_ids():
    """A summary is shown for categories whose rules are not: it must not invite citing them."""
    spec = load_spec("default")
    glance = spec.for_category(NONE_CATEGORY).split(GLANCE_TITLE)[1]
    assert not re.search(r"\b[a-z_]+\.\d+\b", glance)


def test_multi_category_excerpt_has_shared_parts_once(v2_spec):
    excerpt = v2_spec.for_categories(["violence", "erotic", "violence"])
    assert excerpt.count(GLANCE_TITLE) == 1 and excerpt.count("## Definitions") == 1
    assert _full_rule_ids(excerpt) == {"violence.1", "violence.2", "erotic.1", "erotic.2"}
    assert excerpt.index("(`violence`)") < excerpt.index("(`erotic`)")


def test_format1_spec_falls_back_to_descriptions(mini_spec):
    excerpt = mini_spec.for_category("violence")
    glance = excerpt.split(GLANCE_TITLE)[1].split("## Category")[0]
    assert "- **Self-harm**: Requests about suicide or self-injury." in glance
    assert "- **Violence**: Requests about physical harm to people or animals." in glance
    assert "## Definitions" not in excerpt


def test_v2_rendering_of_new_fields(v2_spec):
    excerpt = v2_spec.for_category("erotic")
    assert "- **[def.real_person]** *real person*: Someone who exists" in excerpt
    assert ("- **Violence**: Physical harm to people or animals. *Allowed:* History, news and "
            "fiction are allowed. *Not allowed:* Help to hurt a real person is refused.") in excerpt
    assert "**[erotic.2]** (refuse; operator-configurable) Explicit" in excerpt
    assert "*Operator setting (comply when enabled):* An operator may enable" in excerpt
    assert "-> refuse, per erotic.2 (borderline pair: scene)" in excerpt
    assert "*Reference answer:* I'm sorry, but I can't write explicit content." in excerpt
    assert "**[violence.2]** (refuse; severity: high)" in v2_spec.for_category("violence")


def test_rules_render_allowed_first_whatever_their_number():
    section = load_spec("default").for_category("erotic").split("## Category: ")[1]
    order = RULE_ITEM.findall(section.split("### Examples")[0])
    assert order.index("erotic.8") < order.index("erotic.4") < order.index("erotic.5")


def _edited(path, tmp_path, edit):
    data = yaml.safe_load(path.read_text())
    edit(data)
    out = tmp_path / "edited.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_spec(out)


def test_rule_edit_touches_only_its_category(v2_spec_path, v2_spec, tmp_path):
    def edit(d):
        d["categories"][1]["rules"][0]["text"] = "Sexual health education is allowed."
    edited = _edited(v2_spec_path, tmp_path, edit)
    assert edited.excerpt_hash("violence") == v2_spec.excerpt_hash("violence")
    assert edited.excerpt_hash(NONE_CATEGORY) == v2_spec.excerpt_hash(NONE_CATEGORY)
    assert edited.excerpt_hash("erotic") != v2_spec.excerpt_hash("erotic")


def test_summary_or_definition_edit_touches_every_excerpt(v2_spec_path, v2_spec, tmp_path):
    def summary(d):
        d["categories"][1]["summary"]["allowed"] = "Sexual health only."

    def definition(d):
        d["definitions"][0]["text"] = "Anyone identifiable."
    for edit in (summary, definition):
        edited = _edited(v2_spec_path, tmp_path, edit)
        for cid in ("violence", "erotic", NONE_CATEGORY):
            assert edited.excerpt_hash(cid) != v2_spec.excerpt_hash(cid), (edit.__name__, cid)
