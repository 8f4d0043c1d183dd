"""Selection parsing (``--jailbreaks``) and whether a selection is official StrongREJECT."""

from __future__ import annotations

import pytest

from deliberate.errors import DeliberateError
from deliberate.evals.config import EvalConfig
from deliberate.evals.jailbreaks import (
    DEFAULT_JAILBREAKS,
    JAILBREAKS,
    MODEL_BASED_OFFICIAL,
    OFFICIAL_JAILBREAKS,
    jailbreak_names,
    select_jailbreaks,
)

BON8 = [f"bon_{i}" for i in range(8)]


def test_default_is_the_official_set():
    assert DEFAULT_JAILBREAKS == "official"
    assert EvalConfig().jailbreaks == DEFAULT_JAILBREAKS


def test_official_is_the_published_set(conformance_transforms):
    assert sorted(jailbreak_names("official")) == sorted(conformance_transforms)
    assert jailbreak_names("official") == list(OFFICIAL_JAILBREAKS)


def test_names_all():
    assert jailbreak_names("all") == [*OFFICIAL_JAILBREAKS, "leetspeak", *BON8] == list(JAILBREAKS)
    assert jailbreak_names("extras") == ["leetspeak", *BON8]
    assert jailbreak_names("best_of_n") == BON8
    assert jailbreak_names("official,extras") == jailbreak_names("all")


def test_names_list():
    assert jailbreak_names("none,rot_13,base64") == ["none", "rot_13", "base64"]
    assert jailbreak_names(" none , rot_13 ,none,") == ["none", "rot_13"]
    assert jailbreak_names("none,bon_12") == ["none", "bon_12"]
    assert jailbreak_names("dev_mode_v2,official")[:2] == ["dev_mode_v2", "none"]


def test_names_bon():
    assert jailbreak_names("bon:8") == BON8
    assert jailbreak_names("bon:3") == ["bon_0", "bon_1", "bon_2"]
    assert jailbreak_names("bon:20")[-1] == "bon_19"
    assert jailbreak_names("none,bon:2") == ["none", "bon_0", "bon_1"]


@pytest.mark.parametrize("spec", ["nope", "none,nope", "", " , ", "bon:0", "bon:x", "bon:-1", "bon",
                                  "dev_mode", "style_injection"])
def test_names_errors(spec):
    with pytest.raises(ValueError) as err:
        jailbreak_names(spec)
    if "bon:" not in spec:
        assert "base64_raw" in str(err.value) and "official" in str(err.value)


def test_model_based_words():
    assert jailbreak_names("official+attacks") == [*OFFICIAL_JAILBREAKS, *MODEL_BASED_OFFICIAL]
    assert jailbreak_names("attacks") == list(MODEL_BASED_OFFICIAL)
    assert jailbreak_names("pap") == [n for n in MODEL_BASED_OFFICIAL if n.startswith("pap_")]
    assert jailbreak_names("none,translation") == ["none", "translation_hmong",
                                                   "translation_scotts_gaelic",
                                                   "translation_guarani", "translation_zulu"]
    assert jailbreak_names("pair,auto_obfuscation") == ["pair", "auto_obfuscation"]


@pytest.mark.parametrize("spec", ["official+attacks", "attacks", "pair", "pap_logical_appeal",
                                  "none,translation_zulu", "auto_obfuscation"])
def test_model_based_need_an_attacker(spec):
    """Naming one without --attacker is one usage error naming the flag."""
    with pytest.raises(ValueError, match="--attacker MODEL"):
        EvalConfig(jailbreaks=spec)
    assert EvalConfig(jailbreaks=spec, attacker="openai/attacker").attacker == "openai/attacker"
    assert EvalConfig(jailbreaks=spec, suites="xstest").attacker is None  # no StrongREJECT


def test_attacker_must_be_a_model_ref():
    with pytest.raises(ValueError, match="provider prefix"):
        EvalConfig(jailbreaks="pair", attacker="attacker")


def test_selection_with_attacks(use_official):
    sel = select_jailbreaks("official+attacks")
    assert sel.names == [*OFFICIAL_JAILBREAKS, *MODEL_BASED_OFFICIAL] and not sel.dropped
    assert not sel.official and "Google Translate" in sel.reason  # our translation prompt
    sel = select_jailbreaks("none,pair,pap,auto_payload_splitting,auto_obfuscation")
    assert sel.official, sel.reason  # the official wording throughout


def test_selection_drops_attacks_without_their_files(offline):
    sel = select_jailbreaks("none,pair,pap_logical_appeal,auto_obfuscation")
    assert sel.names == ["none", "auto_obfuscation"] and sel.dropped == ("pair", "pap_logical_appeal")
    assert "left out for want of the official templates: pair, pap_logical_appeal" in sel.reason


def test_model_based_list():
    assert "pair" in MODEL_BASED_OFFICIAL and "auto_payload_splitting" in MODEL_BASED_OFFICIAL
    assert len([n for n in MODEL_BASED_OFFICIAL if n.startswith("pap_")]) == 5
    assert len(MODEL_BASED_OFFICIAL) == 12 and len(OFFICIAL_JAILBREAKS) == 25
    assert not set(MODEL_BASED_OFFICIAL) & set(jailbreak_names("all"))


def test_selection_official(use_official):
    sel = select_jailbreaks("official")
    assert sel.official and sel.names == list(OFFICIAL_JAILBREAKS) and not sel.dropped
    assert sel.label == "StrongREJECT (official jailbreaks)" and sel.assets.official


def test_selection_with_extras_is_not_official(use_official):
    sel = select_jailbreaks("all")
    assert not sel.official and "leetspeak, best_of_n" in sel.reason
    assert sel.label.startswith("StrongREJECT-style, not comparable")


def test_selection_offline_uses_fallback_and_drops_gcg(offline):
    sel = select_jailbreaks("official")
    assert not sel.official and sel.assets is not None and not sel.assets.official
    assert sel.dropped == ("gcg_transfer_harmbench", "gcg_transfer_universal_attacks")
    assert len(sel.names) == 23 and "own wording" in sel.reason and "gcg_" in sel.reason
    with pytest.raises(DeliberateError, match="no jailbreak"):
        select_jailbreaks("gcg_transfer_harmbench")


def test_selection_without_templates_needs_no_file(offline):
    sel = select_jailbreaks("none,rot_13,disemvowel,base64_raw")
    assert sel.official and sel.assets is None


def test_selection_errors_are_user_errors():
    with pytest.raises(DeliberateError, match="unknown jailbreak"):
        select_jailbreaks("nope")
