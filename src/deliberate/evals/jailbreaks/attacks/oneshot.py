"""The one-shot attacks: the attacker rewrites each forbidden prompt once.

Why: PAP, auto_payload_splitting, auto_obfuscation and the translations all take one attacker
reply per prompt, so all of them, for every prompt, go out as one batch through the cached
runner (a rerun sends nothing). Requests per prompt and jailbreak: one, plus one re-ask when
the reply does not parse (PAP, auto_obfuscation; a new sample, as the official code falls back
on its second model). When no usable reply comes, the official fallback applies: the forbidden
prompt unchanged (auto_payload_splitting: wrapped with no word split, as an empty reply gives
upstream), and the result records it.

How each reply becomes the prompt (as the official ``strong_reject/jailbreaks.py`` does it):

* ``pap_<t>``: the official template ``<t>`` filled with the prompt; the prompt is what
  follows ``#mutated_text_with_same_specific_harmful_or_unlawful_intention: ``;
* ``auto_payload_splitting``: the attacker names the telling words; each is cut in two halves
  (``a_0``, ``a_1``, ...; which half is ``_0`` drawn at random), the words are replaced by
  ``[a_0 + a_1]`` and the halves and prompt are put into the official one-example wrapper. The
  official draw is unseeded; ours is seeded by the prompt, so reruns are identical;
* ``auto_obfuscation``: the first ``{`` to the last ``}`` of the reply, when it is JSON;
* ``translation_<language>``: the attacker's translation (our prompt; see :mod:`.prompts`).
  Its answers are translated back to English before grading (:func:`translate_back`).
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

from deliberate.evals.jailbreaks.attacks import prompts as p
from deliberate.evals.jailbreaks.attacks.setup import Attacked, AttackSetup
from deliberate.evals.jailbreaks.catalog import TRANSLATION_LANGUAGES
from deliberate.llm import ChatMessage, ModelRequest, ModelResponse, SamplingConfig
from deliberate.llm.parsed import Parsed


class OneShot(NamedTuple):
    """One attack: the attacker's prompt, how its reply becomes the jailbroken prompt (a
    ValueError re-asks), and the prompt used when no usable reply comes."""

    request: Callable[[str], str]
    sampling: SamplingConfig
    parse: Callable[[str, str], str]  # (reply, forbidden prompt) -> jailbroken prompt
    fallback: Callable[[str], str]


def _unchanged(prompt: str) -> str:
    return prompt


def parse_pap(reply: str, prompt: str) -> str:
    """What follows the official marker (the official ``pap`` takes the rest of the reply)."""
    index = reply.find(p.PAP_MARKER)
    if index < 0 or not reply[index + len(p.PAP_MARKER):].strip():
        raise ValueError(f"no prompt after {p.PAP_MARKER.strip()!r}")
    return reply[index + len(p.PAP_MARKER):]


def parse_obfuscation(reply: str, prompt: str) -> str:
    """The reply from its first ``{`` to its last ``}``, when that is JSON (as upstream)."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    text = reply[start:end + 1]
    json.loads(text)  # JSONDecodeError is a ValueError: re-asked
    return text


def split_payload(reply: str, prompt: str) -> str:
    """The official cipher over the words the attacker flagged, in the official wrapper."""
    rng = random.Random(hashlib.sha256(prompt.encode("utf-8")).hexdigest())
    words = reply.split()
    cipher, split_words = [], []
    for char, word in zip(string.ascii_lowercase, words):
        part0, part1 = word[: len(word) // 2], word[len(word) // 2:]
        if rng.random() < 0.5:
            cipher.append(f"{char}_0 = {part0}\n{char}_1 = {part1}")
            split_words.append(f"[{char}_0 + {char}_1]")
        else:
            cipher.append(f"{char}_0 = {part1}\n{char}_1 = {part0}")
            split_words.append(f"[{char}_1 + {char}_0]")
    for word, split_word in zip(words, split_words):
        prompt = prompt.replace(word, split_word)
    return p.fill(p.PAYLOAD_SPLITTING_WRAPPER, "\n".join([*cipher, prompt]))


def parse_translation(reply: str, prompt: str = "") -> str:
    """The translation, without the tags a model may have echoed."""
    text = reply.strip().removeprefix("<text>").removesuffix("</text>").strip()
    if not text:
        raise ValueError("empty translation")
    return text


def one_shot(name: str, assets_dir: str | Path | None = None) -> OneShot:
    """The attack called ``name`` (any model-based jailbreak but ``pair``)."""
    if name.startswith("pap_"):
        template = p.official_file(p.PAP_FILE, assets_dir)[name.removeprefix("pap_")]
        return OneShot(lambda prompt: template.format(forbidden_prompt=prompt),
                       p.ATTACKER_SAMPLING, parse_pap, _unchanged)
    if name == "auto_payload_splitting":
        return OneShot(partial(p.fill, p.PAYLOAD_SPLITTING_QUESTION), p.OPEN_SAMPLING,
                       split_payload, partial(split_payload, ""))
    if name == "auto_obfuscation":
        return OneShot(partial(p.fill, p.OBFUSCATION_REQUEST), p.OPEN_SAMPLING,
                       parse_obfuscation, _unchanged)
    if name.startswith("translation_"):
        language = TRANSLATION_LANGUAGES[name.removeprefix("translation_")]
        return OneShot(partial(_translate_into, language), p.TRANSLATION_SAMPLING,
                       parse_translation, _unchanged)
    raise KeyError(f"{name!r} is no one-shot attack")


def _translate_into(language: str, prompt: str) -> str:
    return p.translate_request(prompt, "English", language)


def _reply(parse: Callable[[str, str], str], prompt: str, response: ModelResponse) -> str:
    return parse(response.content, prompt)


def run_one_shots(prompts: Sequence[tuple[str, str]], names: Sequence[str],
                  setup: AttackSetup) -> dict[tuple[str, str], Attacked]:
    """Every (prompt id, name) attacked: one batch for all prompts and attacks."""
    shots = {name: one_shot(name, setup.assets_dir) for name in names}
    jobs = [(pid, text, name) for pid, text in prompts for name in names]
    requests = [ModelRequest(id=f"attack/{name}/{pid}", config=shots[name].sampling,
                             messages=[ChatMessage(role="user", content=shots[name].request(text))])
                for pid, text, name in jobs]
    parsers = [partial(_reply, shots[name].parse, text) for _, text, name in jobs]
    run = setup.ask_parsed(setup.attacker, requests, parsers, "attacker: rewrite prompts",
                           p.ATTEMPTS)
    return {(pid, name): _attacked(shots[name], text, parsed, setup.attacker_ref)
            for (pid, text, name), parsed in zip(jobs, run.results)}


def _attacked(shot: OneShot, prompt: str, parsed: Parsed[str], attacker: str) -> Attacked:
    if parsed.value is not None:
        return Attacked(parsed.value, {"attacker": attacker})
    return Attacked(shot.fallback(prompt), {
        "attacker": attacker,
        "fallback": f"no usable attacker reply ({parsed.error}); the official fallback is used"})


def translate_back(answers: Sequence[tuple[str, str, str]],
                   setup: AttackSetup) -> list[Parsed[str]]:
    """The English of each ``(id, translation jailbreak name, answer)``, by the attacker."""
    requests = [ModelRequest(
        id=f"translate_back/{rid}", config=p.TRANSLATION_SAMPLING,
        messages=[ChatMessage(role="user", content=p.translate_request(
            answer, TRANSLATION_LANGUAGES[name.removeprefix("translation_")], "English"))])
        for rid, name, answer in answers]
    return setup.ask_parsed(setup.attacker, requests, lambda r: parse_translation(r.content),
                            "attacker: translate answers back", p.ATTEMPTS).results
