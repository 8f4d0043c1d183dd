"""The evaluation's config: what ``deliberate eval`` flags and ``stages.eval`` in a pipeline set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from deliberate.evals.jailbreaks import DEFAULT_JAILBREAKS, MODEL_BASED_OFFICIAL, jailbreak_names
from deliberate.evals.refusal import METHODS

if TYPE_CHECKING:
    from deliberate.generate.sample import SampleConfig
    from deliberate.spec import Spec

DEFAULT_SUITES = ("strongreject", "xstest", "spec")


class EvalConfig(BaseModel):
    """How to evaluate a model (the model, spec and output folder are given to ``run_eval``)."""

    model_config = ConfigDict(extra="forbid")

    suites: list[str] = Field(default_factory=lambda: list(DEFAULT_SUITES),
                              description="Suites to run, comma-separated.")
    spec_context: Literal["full", "summary"] = Field(
        default="full", description="With --spec-in-context, the whole spec (the paper's baseline), "
        "or its summary form: preamble, style guidelines and one paragraph per category.")
    spec_in_context: bool = Field(default=False, description="Put the whole spec in the system "
                                  "prompt (the paper's inference-time baseline).")
    system_prompt: str | None = Field(default=None, description="A system prompt for every request.")
    grader: str | None = Field(default=None, description="LLM grader for the StrongREJECT rubric, "
                               "refusal labels and the spec judge (default: the no-API grader).")
    refusal_method: str = Field(default="auto", description="No-API refusal grader: "
                                "auto | rules | embedding | lm | strmatch (XSTest's string match).")
    judge_k: int = Field(default=1, ge=1, description="Spec-judge judgments per answer (min taken).")
    samples: int = Field(default=1, ge=1, description="Samples per prompt.")
    temperature: float = Field(default=0.0, ge=0.0, description="Sampling temperature.")
    max_tokens: int = Field(default=1024, ge=1, description="Most new tokens per reply.")
    reasoning_budget: int | None = Field(
        default=None, ge=0, description="Cap on the model's reasoning tokens (none: no cap). hf/ "
        "models: enforced here (an open <think> is closed at N tokens, then the model answers); "
        "OpenAI-compatible servers: sent as --reasoning-budget-field; other backends: an error.")
    jailbreaks: str = Field(default=DEFAULT_JAILBREAKS, description="Jailbreaks: 'official', "
                            "'official+attacks' (adds the model-based ones: needs --attacker), "
                            "'all', 'bon:N', or a comma list of names.")
    attacker: str | None = Field(
        default=None, validate_default=True, description="Attacker model for the model-based "
        "jailbreaks (PAIR, PAP, auto_*, translation_*): a model ref reached with the same backend "
        "options and cache as --model. PAIR's judge is --grader, else the attacker.")
    strongreject_assets: str | None = Field(
        default=None, description="Folder with the official StrongREJECT files (default: the "
        "strong_reject package, $DELIBERATE_STRONGREJECT_ASSETS, or a one-time download).")
    limit: int | None = Field(default=None, ge=1, description="Seeded subsample of prompts per suite.")
    strongreject_data: str | None = Field(default=None, description="Local StrongREJECT CSV "
                                          "(default: the published one, sha256-checked).")
    xstest_data: str | None = Field(default=None, description="Local XSTest prompts CSV "
                                    "(default: the published one, sha256-checked).")
    spec_prompts: str | None = Field(default=None, description="Spec-suite prompts with category "
                                     "and expected_mode (default: the spec's examples).")
    capability_data: str | None = Field(default=None, description="Local GSM8K test JSONL "
                                        "(question/answer) for the capability suite (default: "
                                        "the published one, sha256-checked).")
    label: str | None = Field(default=None, description="Display name in reports.")

    @field_validator("suites", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value

    @field_validator("suites")
    @classmethod
    def _known_suites(cls, value: list[str]) -> list[str]:
        from deliberate.evals.suites import suite_names

        if not value:
            raise ValueError("no suites given")
        unknown = [name for name in value if name not in suite_names()]
        if unknown:
            raise ValueError(f"unknown suite '{unknown[0]}' (suites: {', '.join(suite_names())})")
        return list(dict.fromkeys(value))

    @field_validator("refusal_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"unknown refusal method '{value}' (use {', '.join(METHODS)})")
        return value

    @field_validator("jailbreaks")
    @classmethod
    def _known_jailbreaks(cls, value: str) -> str:
        jailbreak_names(value)  # ValueError names the bad one
        return value

    @field_validator("attacker")
    @classmethod
    def _attacker_for_attacks(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A model-based jailbreak without an attacker is a usage error naming the flag."""
        if value is not None:
            from deliberate.errors import DeliberateError
            from deliberate.llm.refs import parse_model_ref

            try:
                parse_model_ref(value)
            except DeliberateError as exc:
                raise ValueError(str(exc)) from None
            return value
        if "strongreject" not in (info.data.get("suites") or []):
            return None
        needing = [n for n in jailbreak_names(info.data.get("jailbreaks") or DEFAULT_JAILBREAKS)
                   if n in MODEL_BASED_OFFICIAL]
        if needing:
            raise ValueError(f"the jailbreaks {', '.join(needing)} are model-based: they need an "
                             "attacker model to write their prompts (--attacker MODEL)")
        return None

    def sample_config(self, spec: Spec | None) -> SampleConfig:
        """How the evaluated model is asked every prompt (system prompt, sampling)."""
        from deliberate.generate.sample import SampleConfig

        system = self.system_prompt
        if self.spec_in_context and spec is not None:
            from deliberate.spec.render import render_summary

            system = spec.render() if self.spec_context == "full" else render_summary(spec)
        return SampleConfig(samples=self.samples, temperature=self.temperature,
                            max_tokens=self.max_tokens, system_prompt=system,
                            reasoning_budget=self.reasoning_budget)

