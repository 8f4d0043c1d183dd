"""The registry: every name, apply/decode, decoders that never raise, determinism, doctests."""

from __future__ import annotations

import base64
import codecs
import doctest
import importlib
import pkgutil
import random

import pytest

import deliberate.evals.jailbreaks as jb
from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks import (
    JAILBREAKS,
    OFFICIAL_JAILBREAKS,
    apply_jailbreak,
    decode_response,
    extract_base64,
)
from deliberate.evals.jailbreaks.catalog import EXTRAS

from .conftest import PROMPT

EXPECTED = [*OFFICIAL_JAILBREAKS, "leetspeak"] + [f"bon_{i}" for i in range(8)]
GARBAGE = [
    "", " ", "=", "====", "{", "[1, 2", "\x00\xff\ud800", "💥" * 50, "SGVsbG8=" * 3 + "!!!",
    "A" * 10_001, "{\"response\": 5}", "[STANDARD] [DEVELOPER MODE]", "(developer mode)",
    "abc=def==ghi", "\n\n\n", "a" * 4, '"abc"', "```json", "```json\n```",
]
MODULES = [importlib.import_module(f"{jb.__name__}.{m.name}")
           for m in pkgutil.iter_modules(jb.__path__)]


def test_registry_has_every_name():
    assert list(JAILBREAKS) == EXPECTED
    assert [n for n, j in JAILBREAKS.items() if j.official] == list(OFFICIAL_JAILBREAKS)
    assert [n for n, j in JAILBREAKS.items() if not j.official] == list(EXTRAS)
    for name, j in JAILBREAKS.items():
        assert j.name == name and j.description and callable(j.transform)


def test_unknown_name_raises_keyerror_listing_names():
    with pytest.raises(KeyError, match="base64_raw"):
        apply_jailbreak("nope", PROMPT)
    with pytest.raises(KeyError):
        decode_response("nope", "x")
    with pytest.raises(DeliberateError, match="--attacker MODEL"):
        apply_jailbreak("pair", PROMPT)  # model-based: its prompt needs an attacker model
    assert decode_response("translation_zulu", "x") == "x"  # translated back by the suite


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_module_doctests_and_docstrings(module):
    assert "why" in (module.__doc__ or "").lower()  # every module says why it exists
    assert doctest.testmod(module).failed == 0


def recovered(name: str, out: str) -> bool:
    """Whether ``out`` holds a recoverable form of PROMPT."""
    encoded = base64.b64encode(PROMPT.encode()).decode()
    if name in ("base64", "base64_input_only", "base64_raw", "combination_2", "combination_3"):
        return encoded in out and extract_base64(out) == PROMPT
    if name == "rot_13":
        return PROMPT in codecs.encode(out, "rot_13") and PROMPT not in out
    if name == "disemvowel":
        return out == jb.encodings.disemvowel(PROMPT)
    if name == "leetspeak":
        return out == jb.encodings.leetspeak(PROMPT)
    if name.startswith("bon_"):
        return len(out) == len(PROMPT) and len(out.split(" ")) == len(PROMPT.split(" "))
    return PROMPT in out


@pytest.mark.parametrize("name", EXPECTED)
def test_prompt_is_recoverable_official_wording(name, use_official):
    out = apply_jailbreak(name, PROMPT)
    assert isinstance(out, str) and out and recovered(name, out), out
    assert out != PROMPT or name == "none"


@pytest.mark.parametrize("name", [n for n in EXPECTED if not n.startswith("gcg_")])
def test_prompt_is_recoverable_fallback_wording(name, offline):
    out = apply_jailbreak(name, PROMPT)
    assert isinstance(out, str) and out and recovered(name, out), out
    assert out != PROMPT or name == "none"


@pytest.mark.parametrize("name", [n for n, j in JAILBREAKS.items() if j.decode] + ["none"])
@pytest.mark.parametrize("junk", GARBAGE)
@pytest.mark.parametrize("upstream", [False, True])
def test_decoders_never_raise(name, junk, upstream):
    assert isinstance(decode_response(name, junk, upstream=upstream), str)


def test_decoders_never_raise_on_random_text():
    rng = random.Random(0)
    alphabet = "abcXYZ019+/= \n{}[]\":,()`"
    names = ("base64", "base64_raw", "combination_2", "style_injection_json", "rot_13")
    for _ in range(200):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randrange(60)))
        for name in names:
            assert isinstance(decode_response(name, junk), str)
            assert isinstance(decode_response(name, junk, upstream=True), str)


def test_decoder_failure_returns_input(monkeypatch):
    def boom(_):
        raise RuntimeError("bad decoder")

    broken = jb.Jailbreak("base64", JAILBREAKS["base64"].transform, boom, "x", templated=True)
    monkeypatch.setitem(JAILBREAKS, "base64", broken)
    assert decode_response("base64", "SGk=") == "SGk="


@pytest.mark.parametrize("name", ["none", "disemvowel", "leetspeak", "aim", "bon_3", "bon_99"])
def test_no_decoder_is_identity(name):
    assert decode_response(name, "Sure. Step one: ...") == "Sure. Step one: ..."


@pytest.mark.parametrize("name", EXPECTED)
def test_deterministic(name, use_official):
    assert apply_jailbreak(name, PROMPT, seed=7) == apply_jailbreak(name, PROMPT, seed=7)


def test_technique_of_each_jailbreak():
    assert {j.technique for j in JAILBREAKS.values() if j.name.startswith("bon_")} == {"best_of_n"}
    assert JAILBREAKS["rot_13"].technique == "rot_13"
