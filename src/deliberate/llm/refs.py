"""Model references in the ``provider/model`` convention (as in inspect_ai), and the backend each
provider resolves to. An unknown provider is an error, never a fallback to another backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from deliberate.errors import DeliberateError
from deliberate.llm.options import BackendOptions

if TYPE_CHECKING:
    from deliberate.llm.backend import Backend

PROVIDERS = ("openai", "hf", "vllm")


class ModelRef(NamedTuple):
    provider: str
    name: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.name}"


def parse_model_ref(ref: str) -> ModelRef:
    """``openai/gpt-4o`` -> ("openai", "gpt-4o"); ``hf/./ckpt`` -> ("hf", "./ckpt")."""
    provider, sep, name = ref.partition("/")
    if not sep or not name:
        raise DeliberateError(
            f"model '{ref}' needs a provider prefix: {', '.join(p + '/...' for p in PROVIDERS)}"
        )
    if provider not in PROVIDERS:
        raise DeliberateError(f"unknown model provider '{provider}' in '{ref}' (use {', '.join(PROVIDERS)})")
    return ModelRef(provider, name)


def get_backend(ref: str, options: BackendOptions | None = None, **kwargs: Any) -> Backend:
    """Backend for a ``provider/model`` ref; heavy libraries load only when first used."""
    options = options or BackendOptions()
    parsed = parse_model_ref(ref)
    if parsed.provider == "openai":
        from deliberate.llm.backends.openai import OpenAIBackend

        return OpenAIBackend(
            parsed.name, base_url=options.base_url, api_key_env=options.api_key_env,
            timeout=options.timeout, extra_body=options.extra_body,
            reasoning_budget_field=options.reasoning_budget_field,
        )
    if parsed.provider == "hf":
        from deliberate.llm.backends.hf import HFBackend

        return HFBackend(parsed.name, batch_size=options.batch_size, **kwargs)
    if parsed.provider == "vllm":
        from deliberate.llm.backends.vllm import VLLMBackend

        return VLLMBackend(parsed.name, **kwargs)
    raise DeliberateError(f"no backend for provider '{parsed.provider}' in '{ref}'")


def reasoning_budget_support(ref: str, options: BackendOptions | None = None) -> str:
    """How a ``--reasoning-budget`` is enforced for ``ref``; a backend that cannot is an error.

    ``hf/``: here, by generation in two passes (:mod:`deliberate.llm.backends.budget`).
    ``openai/``: by the server, through the request field ``reasoning_budget_field`` names;
    there is no common one (OpenAI's ``reasoning_effort`` is a level, not a token count), so
    without it the budget is refused rather than silently dropped. ``vllm/`` (offline engine):
    not supported.
    """
    options = options or BackendOptions()
    provider = parse_model_ref(ref).provider
    if provider == "hf":
        return ("client-side: the first N generated tokens may reason; an unclosed <think> is "
                "then closed and the model answers")
    if provider == "openai" and options.reasoning_budget_field:
        return (f"by the server: request field '{options.reasoning_budget_field}' (not verified "
                "here; the server must enforce it)")
    if provider == "openai":
        raise DeliberateError(
            f"--reasoning-budget for '{ref}': OpenAI-compatible servers have no common field for a "
            "cap on reasoning tokens (OpenAI's reasoning_effort is a level, not a count). Name your "
            "server's with --reasoning-budget-field (vLLM: thinking_token_budget, served with a "
            "reasoning parser or --reasoning-config), or evaluate the weights as hf/PATH, where "
            "the cap is enforced here")
    raise DeliberateError(f"--reasoning-budget is not supported for '{ref}' (vllm/ offline "
                          "engine); use hf/PATH, or `vllm serve` with openai/NAME and "
                          "--reasoning-budget-field thinking_token_budget")
