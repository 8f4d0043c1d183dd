"""``spec lint``: each finding, the excerpt sizes, the exit codes; the default spec lints clean."""

from __future__ import annotations

import json

import pytest
import yaml

from deliberate.cli.app import main
from deliberate.spec import NONE_CATEGORY, load_spec
from deliberate.spec.lint import approx_tokens, lint_spec, mentions


def test_default_spec_lints_clean():
    report = lint_spec(load_spec("default"))
    assert report.findings == [] and report.clean


def test_v2_test_spec_lints_clean(v2_spec):
    assert lint_spec(v2_spec).clean


def test_excerpt_tokens_are_words_times_1_3(v2_spec):
    report = lint_spec(v2_spec)
    assert set(report.excerpt_tokens) == {"violence", "erotic", NONE_CATEGORY}
    words = len(v2_spec.for_category("violence").split())
    assert report.excerpt_tokens["violence"] == round(words * 1.3)
    assert approx_tokens("one two three four five six seven eight nine ten") == 13


def test_mini_spec_findings(mini_spec):
    found = {(f.kind, f.where) for f in lint_spec(mini_spec).findings}
    assert found == {
        ("no_summary", "violence"), ("no_summary", "self_harm"),
        ("rule_unexercised", "violence.2"), ("no_reference_answer", "violence example 1"),
        ("no_pair", "violence"), ("no_examples", "self_harm"),
        ("rule_unexercised", "self_harm.1"), ("rule_unexercised", "self_harm.2"),
    }


def _lint_mutated(path, tmp_path, mutate, **kwargs):
    data = yaml.safe_load(path.read_text())
    mutate(data)
    out = tmp_path / "spec.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return {(f.kind, f.where) for f in lint_spec(load_spec(out), **kwargs).findings}


def _refuse_only(d):
    d["categories"][0]["rules"][0]["mode"] = "refuse"
    d["categories"][0]["examples"][0]["mode"] = "refuse"
    d["categories"][0]["examples"][0].pop("pair")
    d["categories"][0]["examples"][1].pop("pair")


def _drop_example(d):
    d["categories"][1]["examples"].pop(0)
    d["categories"][1]["examples"][0].pop("pair")


CASES = {
    "no_allowed_rule": (_refuse_only, {("no_allowed_rule", "violence"), ("no_pair", "violence")}),
    "no_examples": (lambda d: d["categories"][1].update(examples=[]),
                    {("no_examples", "erotic"), ("rule_unexercised", "erotic.1"),
                     ("rule_unexercised", "erotic.2")}),
    "rule_unexercised": (_drop_example, {("rule_unexercised", "erotic.1"), ("no_pair", "erotic")}),
    "no_reference_answer": (lambda d: d["categories"][0]["examples"][1].pop("reference_answer"),
                            {("no_reference_answer", "violence example 2")}),
    "definition_unused": (lambda d: d["definitions"].append(
        {"id": "def.minor", "term": "minor", "text": "Anyone under 18."}),
        {("definition_unused", "def.minor")}),
    "example_mode_mismatch": (lambda d: d["categories"][0]["examples"][0].update(
        mode="safe_complete"), {("example_mode_mismatch", "violence example 1")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_finding(case, v2_spec_path, tmp_path):
    mutate, expected = CASES[case]
    assert _lint_mutated(v2_spec_path, tmp_path, mutate) == expected


def test_excerpt_budget(v2_spec_path, tmp_path):
    found = _lint_mutated(v2_spec_path, tmp_path, lambda d: None, max_excerpt_tokens=300)
    assert found == {("excerpt_too_long", "violence"), ("excerpt_too_long", "erotic")}


def test_a_definition_is_used_by_id_or_by_term():
    assert mentions("no help for minors", "def.minor", "minor")
    assert mentions("see def.minor", "def.minor", "minor")
    assert mentions("Public  Figures may be satirised", "def.public_figure", "public figure")
    assert not mentions("a minority view", "def.minor", "minor")
    assert not mentions("see def.minors_x", "def.minor", "minor")


def test_cli_lint_clean_default(capsys):
    assert main(["spec", "lint", "default"]) == 0
    out = capsys.readouterr().out
    assert "clean: no findings" in out
    assert "words of the rendered excerpt x 1.3" in out
    for cid in [*load_spec("default").category_ids, NONE_CATEGORY]:
        assert f"\n  {cid} " in out


def test_cli_lint_findings_exit_1(mini_spec_path, capsys):
    assert main(["spec", "lint", str(mini_spec_path)]) == 1
    out = capsys.readouterr().out
    assert "8 findings:" in out and "violence.2: no example exercises this rule [rule_unexercised]" in out


def test_cli_lint_json(mini_spec_path, capsys):
    assert main(["spec", "lint", str(mini_spec_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["clean"] is False and len(report["findings"]) == 8
    assert set(report["excerpt_tokens"]) == {"violence", "self_harm", "none"}


def test_cli_lint_budget_and_invalid(v2_spec_path, tmp_path, capsys):
    assert main(["spec", "lint", str(v2_spec_path), "--max-tokens", "100"]) == 1
    assert "[excerpt_too_long]" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["spec", "lint", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}")
