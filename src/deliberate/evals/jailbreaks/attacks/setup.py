"""Who the attacks talk to: the attacker, PAIR's judge and target, and what comes back.

Why: every attack step needs the same handful of things (models resolved once, so a local
model loads once; the backend options and cache of the run; the official files); one object
carries them, and one result type says what each attack made of a prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deliberate.llm import Backend, BackendOptions, ModelRequest, RunOutput, generate
from deliberate.llm.parsed import ParsedRun, generate_parsed
from deliberate.llm.refs import get_backend

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from deliberate.generate.sample import SampleConfig
    from deliberate.llm import ModelResponse


@dataclass(frozen=True)
class AttackSetup:
    """The models of the attacks and how to reach them.

    ``judge``: PAIR's judge (the eval's ``--grader``, else the attacker). ``target`` and
    ``sampling``: the evaluated model and how the eval asks it (PAIR probes it exactly so,
    which makes the eval's own request for the final prompt a cache hit).
    """

    attacker: Backend
    judge: Backend
    options: BackendOptions | None = None
    target: Backend | None = None
    sampling: SampleConfig | None = None
    assets_dir: str | None = None

    @classmethod
    def build(cls, attacker: str | Backend, options: BackendOptions | None = None, *,
              judge: str | Backend | None = None, target: str | Backend | None = None,
              sampling: SampleConfig | None = None, assets_dir: str | None = None) -> AttackSetup:
        """Resolve each model ref to one backend (the same ref twice, or the ref of a backend
        given, is that one backend: a local model loads once)."""
        resolved = {m.ref: m for m in (target, judge, attacker) if m and not isinstance(m, str)}

        def backend(model: str | Backend) -> Backend:
            if not isinstance(model, str):
                return model
            if model not in resolved:
                resolved[model] = get_backend(model, options)
            return resolved[model]

        return cls(backend(attacker), backend(judge if judge is not None else attacker), options,
                   None if target is None else backend(target), sampling, assets_dir)

    @property
    def attacker_ref(self) -> str:
        return self.attacker.ref

    def ask(self, model: Backend, requests: Sequence[ModelRequest], description: str) -> RunOutput:
        """Run requests through the cached, concurrent runner."""
        return generate(requests, model, self.options, description=description)

    def ask_parsed(self, model: Backend, requests: Sequence[ModelRequest],
                   parse: Callable[[ModelResponse], Any] | Sequence[Callable[[ModelResponse], Any]],
                   description: str, attempts: int) -> ParsedRun:
        """Run requests, re-asking (a new sample) those whose reply does not parse."""
        return generate_parsed(requests, model, parse, self.options, attempts=attempts,
                               description=description)


@dataclass
class Attacked:
    """One forbidden prompt after one model-based jailbreak: the prompt the target gets.

    ``details`` is what the results file keeps of the attack: the attacker, whether the
    official fallback (the forbidden prompt unchanged) was taken and why, PAIR's scores.
    """

    prompt: str
    details: dict[str, Any] = field(default_factory=dict)
