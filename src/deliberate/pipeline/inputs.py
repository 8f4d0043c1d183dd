"""What a pipeline stage's outputs depend on, as one hash: its settings and its input files.

A stage is skipped on re-run only when it finished and this hash is unchanged; a stage that was
running when the process died is run again, and its model calls come back from the run's
response cache (training resumes from its last checkpoint).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from deliberate.llm.weights import update_with_file


def hash_inputs(settings: Any, files: list[Path]) -> str:
    """Hash of a stage's settings (JSON) and the bytes of its input files and folders.

    Folders (a trained model) are hashed by content, sampled for large files like weight
    fingerprints: the same file names and sizes after retraining must not pass as unchanged.
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(str(path.name).encode())
        if path.is_file():
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and _counts(p, path)):
                digest.update(f"{child.relative_to(path)}:{child.stat().st_size};".encode())
                update_with_file(digest, child)
    return digest.hexdigest()[:16]


def _counts(file: Path, root: Path) -> bool:
    """Files that define a folder's result: not checkpoints, not its manifest's timestamps."""
    parts = file.relative_to(root).parts
    return not any(p.startswith("checkpoint-") for p in parts) and parts[-1] != "manifest.json"
