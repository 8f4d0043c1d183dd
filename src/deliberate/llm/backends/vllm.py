"""vLLM's offline engine (``vllm/<path-or-hub-id>``), an optional extra: ``deliberate[vllm]``.

Thin on purpose: vLLM does its own batching and scheduling, so the whole batch goes to
``LLM.chat`` at once. Not exercised in CI (no GPU); the OpenAI-compatible ``vllm serve`` route
through ``openai/`` is the tested path to the same engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.llm.reasoning import response_from_text
from deliberate.llm.types import ModelRequest, ModelResponse, Usage
from deliberate.llm.weights import local_weights_ref


class VLLMBackend:
    default_concurrency = 1
    remote = False

    def __init__(self, name: str, *, batch_size: int = 256, **engine_kwargs: Any) -> None:
        self.name = name
        self.ref = f"vllm/{name}"
        self.cache_ref = local_weights_ref(self.ref, name)
        self.batch_size = batch_size
        self.engine_kwargs = engine_kwargs
        self._llm: Any = None

    def _engine(self) -> Any:
        if self._llm is None:
            try:
                from vllm import LLM
            except ImportError:
                raise DeliberateError("vllm/ models need vLLM: pip install 'deliberate[vllm]'") from None
            self._llm = LLM(model=self.name, **self.engine_kwargs)
        return self._llm

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        return await asyncio.to_thread(self._generate_sync, batch)

    def _generate_sync(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        from vllm import SamplingParams

        cfg = batch[0].config
        if cfg.reasoning_budget is not None:
            raise DeliberateError("a reasoning budget is not supported on vllm/ models; use hf/, or "
                                  "`vllm serve` with openai/ and --reasoning-budget-field")
        params = SamplingParams(
            temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens,
            seed=cfg.seed, stop=list(cfg.stop) if cfg.stop else None,
        )
        conversations = [[m.model_dump(exclude_none=True) for m in r.messages] for r in batch]
        outputs = self._engine().chat(conversations, params, use_tqdm=False)
        responses = []
        for out in outputs:
            completion = out.outputs[0]
            usage = Usage(input_tokens=len(out.prompt_token_ids), output_tokens=len(completion.token_ids))
            responses.append(response_from_text(completion.text, finish_reason=completion.finish_reason,
                                                usage=usage, model=self.ref))
        return responses

    async def cache_identity(self) -> str:
        return self.cache_ref

    async def aclose(self) -> None:
        return None
