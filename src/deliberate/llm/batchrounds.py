"""A whole stage through batches, in rounds, without the stage knowing.

A stage (label, generate, judge) builds its requests as it goes: a reply that does not parse is
re-asked, a label may need a second opinion. So its requests cannot all be listed up front.
:func:`run_in_batches` runs the stage in rounds instead, each with a
:class:`~deliberate.llm.deferred.DeferringBackend` as its model: the cache answers what it
can, the rest is written to a spool and fails for now; that round's output is thrown away. The
spool is then answered in one go, by the Batch API (:func:`~deliberate.llm.batchapi.run_batch`,
state in ``folder/round-NNN``) or by exporting it for ``vllm run-batch`` and stopping; the
answers go to the response cache under the keys the stage looks up, and the stage runs again.
The first round that defers nothing is the stage's real run: every answer comes from the
cache, and what the batches could not answer (``tries`` times) is a failure record.

Kill the process at any point and run it again: a round whose batches were created but not
imported is finished first (polled, never created twice), then the stage carries on with
everything already answered served by the cache.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from deliberate.errors import DeliberateError
from deliberate.llm.backend import Backend
from deliberate.llm.batchapi import STATE, run_batch
from deliberate.llm.batchfile import BatchExport, export_batch, import_batch
from deliberate.llm.batchoptions import BatchOptions
from deliberate.llm.cache import ResponseCache, default_cache_path
from deliberate.llm.deferred import DeferringBackend, Ledger
from deliberate.llm.dispatch import cache_identity
from deliberate.llm.options import BackendOptions
from deliberate.llm.usage import ModelUsage, UsageReport

T = TypeVar("T")
ROUND = "round-{:03d}"
MAX_ROUNDS = 100
"""A stage's rounds are bounded by its re-asks and ``batch_tries``; this is a backstop."""


@dataclass
class BatchOutcome(Generic[T]):
    """The stage's result (None when its requests were exported instead), and what the
    batches did: rounds run, answers imported, their usage, requests left unanswered."""

    result: T | None
    exported: BatchExport | None = None
    rounds: int = 0
    imported: int = 0
    unanswered: int = 0
    usage: ModelUsage = field(default_factory=ModelUsage)

    def stage_usage(self, report: UsageReport, ref: str) -> UsageReport:
        """The final round's usage with the batches' calls in place of the cache hits they
        became: ``sent``, attempts and tokens are the batches'; refusals were never sent."""
        models = dict(report.models)
        final = models.get(ref, ModelUsage())
        models[ref] = final.model_copy(update={
            "from_cache": max(0, final.from_cache - self.imported),
            "sent": max(0, final.sent - self.unanswered) + self.usage.sent,
            "attempts": max(0, final.attempts - self.unanswered) + self.usage.attempts,
            "input_tokens": final.input_tokens + self.usage.input_tokens,
            "output_tokens": final.output_tokens + self.usage.output_tokens})
        return UsageReport(models=models)


def run_in_batches(stage: Callable[[Backend], T], model: str | Backend,
                   options: BackendOptions, plan: BatchOptions, *, folder: Path | None = None,
                   description: str = "batch",
                   notify: Callable[[str], None] | None = None,
                   final_stage: Callable[[Backend], T] | None = None) -> BatchOutcome[T]:
    """Run ``stage(backend)`` in batch rounds (see the module docstring).

    ``folder``: where the Batch API's rounds keep their state (``plan.batch``). ``notify``
    gets a line after each round that deferred requests (its progress bar counted them as
    failed: they are not). ``final_stage``: for a stage that writes its output as it goes,
    the run that may write it; ``stage`` then writes somewhere to throw away, and
    ``final_stage`` runs once, after the round that deferred nothing, every answer from the
    cache. Without it, that round's result is the stage's.
    """
    from deliberate.llm.refs import get_backend

    if not options.use_cache:
        raise DeliberateError(f"{plan.flag()}: needs the response cache (the batch's answers "
                              "reach the stage through it); drop --no-cache")
    backend = get_backend(model, options) if isinstance(model, str) else model
    if plan.batch and not hasattr(backend, "openai_client"):
        raise DeliberateError(f"--batch: {backend.ref} has no Batch API (use an openai/ model, "
                              "or --batch-export for vllm run-batch)")
    if plan.batch and folder is None:
        raise DeliberateError("--batch: needs a folder for the batches' state (--batch-dir)")
    cache = ResponseCache(options.cache or default_cache_path())
    try:
        return _Rounds(stage, final_stage, backend, options, plan, cache, folder, description,
                       notify or (lambda line: None)).run()
    finally:
        cache.close()


class _Rounds(Generic[T]):
    def __init__(self, stage: Callable[[Backend], T], final_stage: Callable[[Backend], T] | None,
                 backend: Backend, options: BackendOptions, plan: BatchOptions,
                 cache: ResponseCache, folder: Path | None, description: str,
                 notify: Callable[[str], None]) -> None:
        self.stage = stage
        self.final_stage = final_stage
        self.backend = backend
        self.options = options
        self.plan = plan
        self.cache = cache
        self.folder = folder
        self.description = description
        self.notify = notify
        self.ledger = Ledger()
        self.outcome: BatchOutcome[T] = BatchOutcome(None)
        self.key_identity = ""

    def run(self) -> BatchOutcome[T]:
        identity, key_identity = asyncio.run(self._identities())
        self.key_identity = key_identity
        if self.plan.batch_import:
            found = import_batch(self.plan.batch_import, self.cache, model_ref=self.backend.ref)
            self.ledger.add(found.failed)
            self._count(found.imported, found.usage)
        if self.plan.batch:
            self._finish_pending()
        for _ in range(MAX_ROUNDS):
            spool = self._spool()
            deferring = DeferringBackend(self.backend, identity, key_identity, spool=spool,
                                         ledger=self.ledger, tries=self.plan.batch_tries)
            try:
                result = self.stage(deferring)
            finally:
                deferring.close()
            if not deferring.deferred:
                _remove(spool)
                if self.final_stage is not None:
                    result = None  # freed before the real run: it is as big
                    deferring = DeferringBackend(self.backend, identity, key_identity, spool=None,
                                                 ledger=self.ledger, tries=self.plan.batch_tries)
                    result = self.final_stage(deferring)
                self.outcome.result = result
                self.outcome.unanswered = deferring.refused
                return self.outcome
            result = None  # thrown away; held through the next round, it would double memory
            where = (spool.parent.name if self.plan.batch
                     else self.plan.batch_export)  # type: ignore[union-attr]
            self.notify(f"{self.description}: {deferring.deferred} requests the cache cannot "
                        f"answer go to batch {where} (counted as failed above: deferred, not lost)")
            if self.plan.batch_export is not None:
                self.outcome.exported = export_batch(
                    deferring.requests(), self.plan.batch_export, model=_served_name(self.backend),
                    identity=key_identity, extra_body=getattr(self.backend, "extra_body", None),
                    cache=self.cache)
                _remove(spool)
                return self.outcome
            self._submit(deferring, spool.parent)
        raise DeliberateError(f"{self.description}: still deferring requests after "
                              f"{MAX_ROUNDS} batch rounds; see {self.folder}")

    async def _identities(self) -> tuple[str, str]:
        """The backend's cache identity, and the one keys are made with (``--revision``)."""
        try:
            identity = await self.backend.cache_identity()
        finally:
            await self.backend.aclose()
        pinned = DeferringBackend(self.backend, identity, identity, spool=None,
                                  ledger=self.ledger, tries=1)
        return identity, await cache_identity(pinned, self.options)

    def _spool(self) -> Path | None:
        """Where this round's deferred requests go: the next round folder, a temporary file
        for an export, nowhere when only importing (the stage's last round)."""
        if self.plan.batch:
            return self._next_round() / "requests.jsonl"
        if self.plan.batch_export is not None:
            target = self.plan.batch_export
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - a name to write to, no more
                prefix=f".{target.name}.", suffix=".requests", dir=target.parent, delete=False)
            handle.close()
            return Path(handle.name)
        return None

    def _rounds(self) -> list[Path]:
        assert self.folder is not None
        return sorted(p for p in self.folder.glob("round-*") if (p / STATE).exists())

    def _next_round(self) -> Path:
        return self.folder / ROUND.format(len(self._rounds()) + 1)  # type: ignore[operator]

    def _finish_pending(self) -> None:
        """Finish the rounds a killed run left (batches created, answers not imported), then
        read every round's failures into the ledger."""
        for folder in self._rounds():
            state = json.loads((folder / STATE).read_text(encoding="utf-8"))
            if not all(part.get("imported") for part in state["parts"]):
                self._batch(iter(()), folder, count_failures=False)
            state = json.loads((folder / STATE).read_text(encoding="utf-8"))
            for part in state["parts"]:
                result = part.get("result") or {}
                self.ledger.add([(k, why) for k, why in result.get("failed", [])])
                self.ledger.add([(k, why) for k, why in result.get("missing", [])])

    def _submit(self, deferring: DeferringBackend, folder: Path) -> None:
        self._batch(deferring.requests(), folder, count_failures=True)
        _remove(deferring.spool)

    def _batch(self, requests: Any, folder: Path, *, count_failures: bool) -> None:
        self.outcome.rounds += 1
        run = asyncio.run(run_batch(
            self.backend, requests, folder, self.options, cache=self.cache,
            poll_interval=self.plan.batch_poll,
            description=f"{self.description} (batch {folder.name})"))
        keyed = json.loads((folder / STATE).read_text(encoding="utf-8")).get("identity")
        if keyed != self.key_identity:  # its answers would never reach the stage
            raise DeliberateError(f"{folder}: its batches are keyed for {keyed}, this run for "
                                  f"{self.key_identity}; use another --batch-dir")
        if count_failures:
            self.ledger.add(run.failed)
            self.ledger.add((key, "no output line for it") for key in run.missing)
        self._count(run.imported, run.usage)

    def _count(self, imported: int, usage: ModelUsage) -> None:
        self.outcome.imported += imported
        self.outcome.usage.sent += usage.sent
        self.outcome.usage.attempts += usage.attempts
        self.outcome.usage.input_tokens += usage.input_tokens
        self.outcome.usage.output_tokens += usage.output_tokens


def _served_name(backend: Backend) -> str:
    """The name the batch runner knows the model by (``vllm run-batch --model``)."""
    return str(getattr(backend, "model", None) or getattr(backend, "name", None)
               or backend.ref.partition("/")[2])


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def run_writing_in_batches(stage: Callable[[Backend, Path], T], out: Path, model: str | Backend,
                           options: BackendOptions, plan: BatchOptions, *,
                           folder: Path | None = None, description: str = "batch",
                           notify: Callable[[str], None] | None = None) -> BatchOutcome[T]:
    """:func:`run_in_batches` for a stage that writes its output as it goes
    (``stage(backend, target)``): each round that defers requests writes to a scratch file
    thrown away before the next (its records mark the deferred requests failed, and a resume
    would take them as done); only the last run, every answer from the cache, writes ``out``."""
    import shutil

    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".rounds", dir=out.parent))

    def throwaway(backend: Backend) -> T:
        for leftover in scratch.iterdir():  # each round starts afresh, never resumes the last
            leftover.unlink()
        return stage(backend, scratch / out.name)

    try:
        return run_in_batches(throwaway, model, options, plan, folder=folder,
                              description=description, notify=notify,
                              final_stage=lambda backend: stage(backend, out))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

