"""How to reach a model and how hard to push it: shared by every command that calls models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deliberate.errors import DeliberateError


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise DeliberateError(f"${name}: expected a whole number, got {value!r}") from None


def endpoint_urls(value: str | list[str] | None) -> list[str]:
    """``"http://a/v1, http://b/v1"`` or a list -> ``["http://a/v1", "http://b/v1"]``."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [item.strip() for item in items if item and item.strip()]


class BackendOptions(BaseModel):
    """Connection and throughput settings (CLI flags, the pipeline's ``backend:``, or env vars)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | list[str] | None = Field(
        default=None,
        description="OpenAI-compatible server URL (else $OPENAI_BASE_URL); several, "
                    "comma-separated, for replicas of one model: each request goes to the one "
                    "with the fewest in flight.",
        json_schema_extra={"env": "OPENAI_BASE_URL"})
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the API key.")
    concurrency: int | None = Field(
        default_factory=lambda: _env_int("DELIBERATE_CONCURRENCY"), ge=1,
        description="Requests in flight (default 64 for servers, 1 batch for local models).",
        json_schema_extra={"env": "DELIBERATE_CONCURRENCY"})
    batch_size: int = Field(default=8, ge=1, description="Local models: prompts per generate call.")
    timeout: float = Field(
        default=300.0, gt=0,
        description="Servers: seconds one attempt may take in all (connect, send, the whole "
                    "reply); a slower reply times out and is retried.")
    max_attempts: int = Field(default=6, ge=1, description="Tries per request before giving up.")
    request_budget: float = Field(
        default=600.0, gt=0,
        description="Servers: seconds one request may take over all its attempts and retry "
                    "waits. This bounds a hung server: at most this long per request (with "
                    "the defaults, two 300 s attempts).")
    backoff_base: float = Field(default=1.0, ge=0, description="First retry delay, doubled each try.")
    backoff_max: float = Field(default=60.0, ge=0, description="Longest retry delay.")
    cache: Path | None = Field(
        default=None, description="SQLite response cache file (default: the user cache dir).",
        json_schema_extra={"env": "DELIBERATE_CACHE"})
    use_cache: bool = Field(default=True, description="Read and write the response cache.",
                            json_schema_extra={"flags": ["--use-cache/--no-cache"]})
    progress: bool = Field(default=True, description="Show a progress bar.",
                           json_schema_extra={"flags": ["--progress/--quiet"]})
    revision: str | None = Field(
        default=None,
        description="Tag for the weights behind the model name (e.g. a checkpoint step); part "
                    "of the cache key, so a new tag never gets an old checkpoint's answers.")
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Extra JSON fields for OpenAI-compatible servers.")
    reasoning_budget_field: str | None = Field(
        default=None, description="OpenAI-compatible servers: the request field that caps reasoning "
        "tokens, sent with --reasoning-budget (vLLM: thinking_token_budget, with a reasoning "
        "parser or --reasoning-config); without it a budget is refused for servers.")

    @field_validator("base_url", mode="before")
    @classmethod
    def _one_or_several(cls, value: Any) -> Any:
        """One URL stays a string; several (a list, or comma-separated) become a list."""
        if isinstance(value, (str, list)):
            urls = endpoint_urls(value)
            return None if not urls else urls[0] if len(urls) == 1 else urls
        return value
