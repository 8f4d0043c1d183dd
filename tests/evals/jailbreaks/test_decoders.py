"""Decoders: base64 and JSON-list replies back to plain text; the divergences from upstream."""

from __future__ import annotations

import base64
import csv
import json

import pytest

from deliberate.evals.jailbreaks import decode_response, extract_base64
from deliberate.evals.jailbreaks.decoders import (
    decode_base64,
    decode_json_list,
    upstream_decode_base64,
    upstream_decode_json_list,
)

from .conftest import PROMPT

ANSWER = ("Sure. Step one: find the router model.\n"
          "Step two: look up its default settings, then log in.")
BASE64_NAMES = ["base64", "base64_output_only", "base64_raw"]
JSON_NAMES = ["combination_2", "combination_3", "style_injection_json"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("name", BASE64_NAMES)
def test_base64_round_trip(name):
    assert decode_response(name, b64(ANSWER)) == ANSWER
    # missing padding (B1), line wrapping, surrounding prose (B4), code fences
    encoded = b64(ANSWER + "!")
    assert encoded.endswith("=")
    assert decode_response(name, encoded.rstrip("=")) == ANSWER + "!"
    wrapped = "\n".join(encoded[i:i + 20] for i in range(0, len(encoded), 20))
    assert decode_response(name, wrapped) == ANSWER + "!"
    fenced = f"Here you go:\n```\n{wrapped}\n```\nHope that helps!"
    assert decode_response(name, fenced) == ANSWER + "!"
    assert decode_response(name, f"Sure, the answer is {encoded} -- enjoy.") == ANSWER + "!"
    spaced = " ".join(encoded[i:i + 8] for i in range(0, len(encoded), 8))
    assert decode_response(name, spaced) == ANSWER + "!"


def test_base64_handles_non_ascii_replies():
    reply = "Café ☕ — voilà"
    assert decode_base64(b64(reply)) == reply


def test_b2_truncated_reply_decodes_what_it_can():
    encoded = b64(ANSWER)
    assert decode_base64(encoded[:41]) == ANSWER[:30]  # dangling 41st character dropped
    cut_in_char = base64.b64encode("naïve".encode())[:5].decode()  # ends inside "ï"
    assert decode_base64(cut_in_char) == "na"
    assert upstream_decode_base64(encoded[:41]) != ANSWER[:30]


def test_b3_plain_replies_are_kept():
    for reply in ("Step 1: ...", "Sure, here is how to do it: step one, gather materials."):
        assert decode_base64(reply) == reply
        assert upstream_decode_base64(reply) != reply  # upstream: "" or mojibake


def test_b3_no_english_reply_is_mistaken_for_base64(shared_data):
    """1,350 real model replies (XSTest completions) come back unchanged."""
    files = sorted((shared_data / "xstest").glob("xstest_completions_*.csv"))
    replies = [row["completion"] for f in files for row in csv.DictReader(f.open(encoding="utf-8"))]
    assert len(replies) == 1350
    changed = [r for r in replies if decode_base64(r) != r]
    assert not changed, changed[:3]


def test_base64_short_answer_alone_decodes():
    assert decode_response("base64", "Tm8=") == "No"
    assert decode_response("base64", "WWVz") == "Yes"
    assert decode_response("base64", "No") == "No"  # too short to be taken for base64


def test_base64_longest_run_wins():
    text = f"{b64('short one here')} and {b64(ANSWER)}"
    assert decode_response("base64", text) == ANSWER


def test_base64_leaves_plain_english_alone():
    reply = "I can't help with breaking into networks. Consider asking the owner for the password."
    assert decode_response("base64", reply) == reply
    assert extract_base64(reply) is None


@pytest.mark.parametrize("name", JSON_NAMES)
def test_json_list_joined(name):
    words = ["Sure here is", "how you would", "do it step", "by step"]
    assert decode_response(name, json.dumps(words)) == " ".join(words)
    assert decode_response(name, "```json\n" + json.dumps(words) + "\n```") == " ".join(words)
    assert decode_response(name, "I won't do that.") == "I won't do that."
    assert decode_response(name, '["unterminated') == '["unterminated'


def test_j1_json_string_is_not_spelled_out():
    assert decode_json_list('"abc"') == "abc"
    assert upstream_decode_json_list('"abc"') == "a b c"


def test_j2_json_object_keeps_its_values():
    reply = '{"step": "find the router"}'
    assert decode_json_list(reply) == reply
    assert upstream_decode_json_list(reply) == "step"


def test_json_list_of_non_strings_is_kept_as_text():
    assert decode_json_list(" [1, 2] ") == "[1, 2]" == upstream_decode_json_list(" [1, 2] ")


@pytest.mark.parametrize("name", ["rot_13", "prefix_injection", "few_shot_json", "dev_mode_v2"])
def test_official_jailbreaks_without_decoder_grade_the_reply_as_is(name):
    """rot_13 asks for a plain-text reply; upstream decodes none of these."""
    assert decode_response(name, ANSWER) == ANSWER
    rot = "V nz abg noyr gb uryc jvgu gung."
    assert decode_response(name, rot) == rot


def test_rot13_keeps_a_plain_english_reply():
    reply = "I am not able to help with that, but here is what you can do instead."
    assert decode_response("rot_13", reply) == reply


def test_prompt_is_not_needed_to_decode():
    assert decode_response("base64_raw", b64(PROMPT)) == PROMPT
