"""Spec format 2: definitions, summaries, reference answers, pairs, severity, operator options,
and citations of definitions."""

from __future__ import annotations

import pytest
import yaml

from deliberate.errors import InputFileError
from deliberate.spec import ResponseMode, load_spec
from deliberate.spec.checks import check_citations, cited_ids
from deliberate.spec.elements import Severity


def test_v2_spec_loads(v2_spec):
    assert v2_spec.spec_format == 2
    assert [d.id for d in v2_spec.definitions] == ["def.real_person", "def.operational_detail"]
    violence = v2_spec.category("violence")
    assert violence.summary.covers == "Physical harm to people or animals."
    assert violence.rules[1].severity is Severity.high
    assert set(violence.pairs) == {"siege"} and len(violence.pairs["siege"]) == 2
    rule = v2_spec.category("erotic").rules[1]
    assert rule.operator_configurable and rule.operator_mode is ResponseMode.comply


def test_format1_specs_still_load(mini_spec):
    assert mini_spec.spec_format == 1 and mini_spec.definitions == []
    assert all(c.summary is None for c in mini_spec.categories)


def test_definitions_are_citable_ids(v2_spec):
    assert "def.real_person" in v2_spec.rules_by_id
    assert "def.real_person" not in v2_spec.category_rules
    assert v2_spec.definitions_by_id["def.real_person"].term == "real person"
    assert set(v2_spec.category_rules) == {"violence.1", "violence.2", "erotic.1", "erotic.2"}


def test_cited_ids_find_definitions():
    text = "violence.2 applies: this is operational detail (def.operational_detail), per style.refusal."
    assert cited_ids(text) == ["violence.2", "def.operational_detail", "style.refusal"]
    assert cited_ids("undef.x, my_def.y and def.") == []


def test_definition_citation_is_valid_but_does_not_fit_a_category(v2_spec):
    only_def = check_citations("per def.real_person this is a real person", v2_spec, ["violence"])
    assert only_def.unknown == [] and not only_def.fits_category and not only_def.valid
    with_rule = check_citations("def.real_person; so violence.2 applies", v2_spec, ["violence"])
    assert with_rule.valid
    assert not check_citations("def.real_person", v2_spec, ["none"]).valid
    invented = check_citations("def.nope and violence.2", v2_spec, ["violence"])
    assert invented.unknown == ["def.nope"] and not invented.valid


def _mutated(path, tmp_path, mutate):
    data = yaml.safe_load(path.read_text())
    mutate(data)
    out = tmp_path / "spec.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def _rule(d, cat=1, i=1):
    return d["categories"][cat]["rules"][i]


BAD_V2 = {
    "missing_summary": (lambda d: d["categories"][0].pop("summary"),
                        ("spec_format 2 needs a summary (covers, allowed, disallowed) for every "
                         "category; missing: violence")),
    "summary_field_missing": (lambda d: d["categories"][0]["summary"].pop("allowed"),
                              "categories.0.summary.allowed: required field is missing"),
    "unknown_format": (lambda d: d.update(spec_format=3), "spec_format: Input should be 1 or 2"),
    "bad_definition_id": (lambda d: d["definitions"][0].update(id="real_person"),
                          "definitions.0.id: String should match pattern"),
    "duplicate_definition": (lambda d: d["definitions"].append(dict(d["definitions"][0])),
                             "duplicate definition id 'def.real_person'"),
    "reserved_def": (lambda d: d["categories"][0].update(id="def"), "'def' is reserved"),
    "reserved_style": (lambda d: d["categories"][0].update(id="style"), "'style' is reserved"),
    "pair_of_three": (lambda d: d["categories"][0]["examples"].append(
        dict(d["categories"][0]["examples"][0])), "pair 'siege' in category 'violence' marks 3"),
    "pair_same_mode": (lambda d: d["categories"][0]["examples"][1].update(mode="comply"),
                       "both examples have mode 'comply'"),
    "configurable_without_note": (lambda d: _rule(d).pop("operator_note"),
                                  "rule 'erotic.2' is operator_configurable: give operator_mode"),
    "note_without_configurable": (lambda d: _rule(d).pop("operator_configurable"),
                                  "has operator_mode/operator_note but is not operator_configurable"),
    "critical_comply": (lambda d: _rule(d, 0, 0).update(severity="critical"),
                        "rule 'violence.1' has severity critical: its mode must be refuse"),
    "critical_configurable": (lambda d: _rule(d).update(severity="critical"),
                              "no operator may configure it"),
    "unknown_severity": (lambda d: _rule(d).update(severity="extreme"), "severity"),
    "example_unknown_field": (lambda d: d["categories"][0]["examples"][0].update(answer="x"),
                              "categories.0.examples.0.answer: unknown field"),
}


@pytest.mark.parametrize("case", sorted(BAD_V2))
def test_bad_v2_spec_is_rejected_with_reason(case, v2_spec_path, tmp_path):
    mutate, expected = BAD_V2[case]
    path = _mutated(v2_spec_path, tmp_path, mutate)
    with pytest.raises(InputFileError) as info:
        load_spec(path)
    assert expected in str(info.value)


def test_format1_spec_may_have_v2_fields_without_summaries(mini_spec_path, tmp_path):
    def add(d):
        d["definitions"] = [{"id": "def.x", "term": "x", "text": "An x."}]
        d["categories"][0]["examples"][0]["reference_answer"] = "Walls and patience."
    spec = load_spec(_mutated(mini_spec_path, tmp_path, add))
    assert spec.spec_format == 1 and spec.definitions[0].id == "def.x"
