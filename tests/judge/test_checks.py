"""Code checks: citations (real, wrong category, invented), spec leaks, format."""

from __future__ import annotations

from deliberate.llm.types import ReasoningFormat
from deliberate.spec.checks import check_citations, check_format, check_leak, cited_ids


def test_cited_ids_ignore_versions_and_files():
    text = "Per violence.2 and style.refusal; not v1.2, setup.py, 3.14 or example.com/a.1"
    assert cited_ids(text) == ["violence.2", "style.refusal"]


def test_real_ids_in_category(mini_spec):
    check = check_citations("per violence.1 it is fine, style.compliance", mini_spec, ["violence"])
    assert check.valid and check.cited == ["violence.1", "style.compliance"]


def test_wrong_category(mini_spec):
    check = check_citations("per self_harm.1 ...", mini_spec, ["violence"])
    assert not check.fits_category and not check.valid and check.unknown == []


def test_invented_id(mini_spec):
    check = check_citations("per violence.1 and violence.7", mini_spec, ["violence"])
    assert check.unknown == ["violence.7"] and not check.valid


def test_no_citation(mini_spec):
    assert not check_citations("this seems fine", mini_spec, ["violence"]).valid


def test_none_category_needs_style(mini_spec):
    assert check_citations("style.compliance applies", mini_spec, ["none"]).valid
    assert not check_citations("violence.1 applies", mini_spec, ["none"]).valid


def test_multi_category_fits_any(mini_spec):
    assert check_citations("self_harm.2 applies", mini_spec, ["violence", "self_harm"]).valid


def test_leak_reference_phrases(mini_spec):
    for text in ["As the spec above says, ...", "The provided policy allows it.",
                 "Following the policy you gave me", "as stated above, violence.1"]:
        assert check_leak(text, mini_spec).leaked, text
    assert not check_leak("violence.1 allows history; I'll explain.", mini_spec).leaked


def test_leak_long_verbatim_quote(mini_spec):
    quote = "Judge the request by its intent. Over-refusal is a failure too."  # 11 words
    assert check_leak(quote, mini_spec, quote_words=8, strict_quotes=True).leaked
    assert not check_leak("Judge the request by its intent, then decide.", mini_spec, quote_words=8,
                          strict_quotes=True).leaked


def test_quoting_from_memory_is_reported_not_failed(mini_spec):
    cot = ('Per violence.2, "Instructions for hurting a specific person are disallowed. This '
           'includes planning an attack." He wants exactly that, so I refuse.')
    check = check_leak(cot, mini_spec)
    assert not check.leaked and check.references == []
    assert check.longest_quote == 13  # "instructions for hurting ... planning an attack"
    assert check.quoted_share == round(13 / 23, 4)  # words: "per violence 2", 13 quoted, 7 more
    strict = check_leak(cot, mini_spec, strict_quotes=True)
    assert strict.leaked and strict.strict_quotes
    assert check_leak("per violence.1 history is fine", mini_spec).quoted_share == 0.0


def test_context_bound_references_fail_whatever_the_quoting(mini_spec):
    for text in ["violence.1 (the policy above) allows it", "The provided spec says so",
                 "as shown above, history is allowed", "the spec excerpt covers it",
                 "the rules in my system prompt allow it"]:
        assert check_leak(text, mini_spec).leaked, text
    for text in ["The policy says history is allowed (violence.1).",
                 "The user wants me to summarise the text above.",
                 "Per the spec, violence.2: instructions for hurting a person are disallowed."]:
        assert not check_leak(text, mini_spec).leaked, text


def test_format():
    assert check_format("r", "a", ReasoningFormat.think_tags).ok
    assert check_format("", "a", ReasoningFormat.none).reason == "empty reasoning"
    assert check_format("r", " ", ReasoningFormat.think_tags).reason == "empty answer"
    assert not check_format("r", "", ReasoningFormat.unclosed).ok
