"""Fingerprints of local model weights: which weights a cache key, an eval or a manifest means.

A fingerprint hashes the bytes of the weight, adapter, config and tokenizer files of a model
folder (or of one GGUF file). Files up to 64 MiB are hashed whole; larger ones by their size
and 16 evenly spaced 64 KiB blocks, which any training step changes (every weight moves) while
a 7B checkpoint is fingerprinted in well under a second. Content, not modification times: a
copied folder keeps its fingerprint, a retrained one in the same place gets a new one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".json", ".model", ".jinja")
WHOLE_FILE_LIMIT = 64 << 20
BLOCK = 64 << 10
BLOCKS = 16


def weight_files(path: Path) -> list[Path]:
    """The files that define a local model: one GGUF file, or a folder's weight-like files."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(f for f in path.iterdir() if f.is_file() and f.suffix in WEIGHT_SUFFIXES)
    return []


def weights_fingerprint(path: str | Path) -> str | None:
    """16 hex chars identifying the weights at ``path``; None where there are no local files."""
    files = weight_files(Path(path))
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}:{file.stat().st_size};".encode())
        update_with_file(digest, file)
    return digest.hexdigest()[:16]


def update_with_file(digest: hashlib._Hash, file: Path) -> None:
    """Feed a file's bytes to ``digest``: whole up to 64 MiB, else 16 evenly spaced blocks."""
    size = file.stat().st_size
    with open(file, "rb") as handle:
        if size <= WHOLE_FILE_LIMIT:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            return
        for i in range(BLOCKS):
            handle.seek((size - BLOCK) * i // (BLOCKS - 1))
            digest.update(handle.read(BLOCK))


def local_weights_ref(ref: str, name: str) -> str:
    """``ref@fingerprint`` for local weights, ``ref`` itself for hub ids and missing paths.

    Cache keys use this, so retraining into the same folder (``sft/`` after a second ``deliberate
    sft``) never serves the old model's cached answers.
    """
    fingerprint = weights_fingerprint(name)
    return f"{ref}@{fingerprint}" if fingerprint else ref
