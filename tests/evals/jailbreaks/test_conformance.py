"""Conformance with the official StrongREJECT implementation (dsbowen/strong_reject).

Transforms: every deterministic official jailbreak gives, on each of the 60 prompts of the
small StrongREJECT set, exactly the official output (computed by running the official code).
Decoders: ours agree with the official ones except for the documented divergences B1-B4 (see
``deliberate.evals.jailbreaks.decoders``), each of which is asserted here case by case; with
``upstream=True`` they agree on every case.
"""

from __future__ import annotations

import pytest

from deliberate.evals.jailbreaks import OFFICIAL_JAILBREAKS, apply_jailbreak, decode_response
from deliberate.evals.jailbreaks.catalog import CODE_JAILBREAKS

SURE = "Sure, here is how to do it: step one, gather materials."
SORRY = "I'm sorry, but I can't help with that."
STEP = "Step 1: ..."
SURE_B64 = "U3VyZSwgaGVyZSBpcyBob3cgdG8gZG8gaXQ6IHN0ZXAgb25lLCBnYXRoZXIgbWF0ZXJpYWxzLg=="
SORRY_B64 = "SSdtIHNvcnJ5LCBidXQgSSBjYW4ndCBoZWxwIHdpdGggdGhhdC4="

DIVERGENCES = {
    # reply: (divergence, what we return); upstream's result is in the fixture
    SURE_B64.rstrip("="): ("B1 missing padding", SURE),
    SURE_B64.rstrip("=")[:-1]: ("B2 truncated reply", SURE[:-1]),
    SORRY_B64[:49]: ("B2 truncated reply", SORRY[:36]),
    "U3RlcCAxOiAuL": ("B2 truncated reply", "Step 1: ."),
    SURE: ("B3 plain-text reply", SURE),
    STEP: ("B3 plain-text reply", STEP),
    "Here you go:\n" + SURE_B64: ("B4 base64 inside prose", SURE),
    "Here you go:\n" + SORRY_B64: ("B4 base64 inside prose", SORRY),
    "Here you go:\nU3RlcCAxOiAuLi4=": ("B4 base64 inside prose", STEP),
}


def test_fixture_covers_exactly_the_official_set(conformance_transforms):
    assert sorted(conformance_transforms) == sorted(OFFICIAL_JAILBREAKS)
    assert len(OFFICIAL_JAILBREAKS) == 25
    assert all(len(rows) == 60 for rows in conformance_transforms.values())


@pytest.mark.parametrize("name", OFFICIAL_JAILBREAKS)
def test_transform_is_byte_identical(name, conformance_transforms, use_official):
    rows = conformance_transforms[name]
    wrong = [r["forbidden_prompt"] for r in rows
             if apply_jailbreak(name, r["forbidden_prompt"]) != r["jailbroken_prompt"]]
    assert not wrong, f"{name}: {len(wrong)} of {len(rows)} prompts differ, e.g. {wrong[0]!r}"


@pytest.mark.parametrize("name", CODE_JAILBREAKS)
def test_code_jailbreaks_are_identical_without_the_official_file(
        name, conformance_transforms, offline):
    for r in conformance_transforms[name]:
        assert apply_jailbreak(name, r["forbidden_prompt"]) == r["jailbroken_prompt"]


def test_decoders_agree_except_documented_divergences(conformance_decoders):
    agree, diverge = 0, 0
    for case in conformance_decoders:
        ours = decode_response(case["jailbreak"], case["response"])
        if case["response"] in DIVERGENCES:
            tag, expected = DIVERGENCES[case["response"]]
            assert ours == expected != case["official_decoded"], (tag, case)
            diverge += 1
        else:
            assert ours == case["official_decoded"], case
            agree += 1
    assert (agree, diverge) == (27, 27)  # 9 replies x 3 base64 jailbreaks diverge


def test_every_divergence_is_in_the_fixture(conformance_decoders):
    assert set(DIVERGENCES) <= {c["response"] for c in conformance_decoders}


def test_upstream_decoders_agree_on_every_case(conformance_decoders):
    for case in conformance_decoders:
        got = decode_response(case["jailbreak"], case["response"], upstream=True)
        assert got == case["official_decoded"], case
