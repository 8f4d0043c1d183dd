"""The demo's training-row transforms: compact reasoning, a leading rules line, comply repeats,
answers cut so every row ends its turn."""

from __future__ import annotations

from collections import Counter

from deliberate.pipeline.demo_data import (
    compact_reasoning,
    fit_seed,
    lead_with_rules,
    oversample_mode,
    sft_rows,
)

REASONING = ("The user wants frank facts. That is health education under erotic.1, so I answer. "
             "Nothing else applies here. Per style.compliance I skip the caveats.\nResponse mode: comply")


def test_compact_reasoning_keeps_citing_sentences_and_the_mode_line():
    assert compact_reasoning(REASONING, 1) == ("That is health education under erotic.1, so I answer."
                                               "\nResponse mode: comply")
    assert compact_reasoning(REASONING, 5).count(".1") == 1
    assert "style.compliance" in compact_reasoning(REASONING, 5)
    assert compact_reasoning("No rule cited here.", 2) == "No rule cited here."


def test_lead_with_rules_names_the_cited_ids_first_in_order():
    led = lead_with_rules(REASONING)
    assert led.splitlines()[0] == "Rules: erotic.1, style.compliance."
    assert led.endswith(REASONING)
    assert lead_with_rules("a.1 b.2 c.3 d.4", max_ids=2).splitlines()[0] == "Rules: a.1, b.2."
    assert lead_with_rules("Nothing cited.") == "Nothing cited."


def _seed(i: int, mode: str) -> dict:
    return {"id": f"s{i}", "expected_mode": mode, "prompt": f"p{i}", "reasoning": REASONING, "answer": "A."}


def test_oversample_mode_repeats_one_mode_up_to_its_share():
    seeds = [_seed(i, "comply") for i in range(2)] + [_seed(i, "refuse") for i in range(2, 6)]
    out = oversample_mode(seeds, "comply", 0.6)
    counts = Counter(s["expected_mode"] for s in out)
    assert counts["refuse"] == 4 and counts["comply"] / len(out) >= 0.6
    assert counts["comply"] == 6  # the smallest count that reaches the share
    assert {s["id"] for s in out if s["expected_mode"] == "comply"} == {"s0", "s1"}
    assert oversample_mode(seeds, "comply", None) == seeds
    assert oversample_mode(seeds, "comply", 0.2) == seeds  # already above: never thinned
    assert oversample_mode([_seed(0, "refuse")], "comply", 0.9) == [_seed(0, "refuse")]  # none to repeat


def test_sft_rows_apply_compact_then_lead():
    (row,) = sft_rows([_seed(0, "comply")], None, 256, compact=1, lead_rules=True)
    assert row["messages"][-1]["reasoning_content"] == (
        "Rules: erotic.1.\nThat is health education under erotic.1, so I answer.\nResponse mode: comply")


def _rendered_length(tokenizer, seed: dict) -> tuple[int, str]:
    from deliberate.pipeline.demo_data import seed_turns

    row = [*seed_turns(seed), {"role": "assistant", "content": seed["answer"], "reasoning_content": seed["reasoning"]}]
    ids = tokenizer.apply_chat_template(row, tokenize=True, return_dict=True)["input_ids"]
    return len(ids), tokenizer.decode(ids)


def test_fit_seed_leaves_room_for_the_end_of_turn(tiny_model_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path)
    answer = "Here is the answer. " * 12 + "The quick brown fox jumps over the lazy dog."
    seed = {"id": "s", "prompt": "hello world", "reasoning": "Per violence.1 this is allowed.", "answer": answer}
    whole, _ = _rendered_length(tokenizer, seed)
    for max_length in (whole - 1, whole - 20, whole - 60):
        fitted = fit_seed(seed, tokenizer, max_length)
        length, text = _rendered_length(tokenizer, fitted)
        assert length <= max_length and text.rstrip().endswith("<|im_end|>")
        assert fitted["reasoning"] == seed["reasoning"] and answer.startswith(fitted["answer"])
    assert fit_seed(seed, tokenizer, whole) == seed


def test_fit_seed_cuts_a_long_first_sentence_at_a_word_with_an_ellipsis(tiny_model_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path)
    seed = {"id": "s", "prompt": "hello", "reasoning": "Per violence.1 this is allowed.",
            "answer": "the quick brown fox jumps over the lazy dog " * 6 + "ok. Then more."}
    fitted = fit_seed(seed, tokenizer, _rendered_length(tokenizer, {**seed, "answer": ""})[0] + 12)
    assert fitted["answer"].endswith(" …") and fitted["answer"].startswith("the quick")
    assert seed["answer"].startswith(fitted["answer"][:-2])  # cut at a word, nothing rewritten
    crowded = fit_seed(seed, tokenizer, 5)  # the prompt alone is longer: the trainer truncates
    assert crowded["answer"] == seed["answer"].split(". ")[0] + "."
