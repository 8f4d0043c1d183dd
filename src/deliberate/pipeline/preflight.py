"""Preflight: everything a pipeline needs is checked before the first model call.

Every model ref must parse and have a backend, every served model's endpoint must answer,
every local model folder and data file must exist, and anything that will be downloaded is said
up front, so a typo in the judge's name does not surface after hours of teacher calls.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from deliberate.errors import DeliberateError
from deliberate.pipeline.config import PipelineConfig

STAGE_ROLES: dict[str, tuple[str, ...]] = {
    "label": ("labeler",), "generate": ("teacher",), "judge": ("judge",), "filter": (),
    "sft": ("student",), "rl": ("student", "judge"), "eval": ("student", "grader"), "report": (),
}


def roles_in_use(config: PipelineConfig, stages: list[str]) -> dict[str, str]:
    """role -> model ref for the models the selected stages call."""
    roles = {role for stage in stages for role in STAGE_ROLES[stage]}
    return {role: ref for role, ref in config.models.model_dump().items() if ref and role in roles}


def preflight(config: PipelineConfig, stages: list[str]) -> list[str]:
    """Check the run can start; returns notes (downloads, unchecked hub ids), raises on problems."""
    problems: list[str] = []
    notes: list[str] = []
    for role, ref in roles_in_use(config, stages).items():
        _check_model(config, role, ref, problems, notes)
    for extra in config.stages.eval.models if "eval" in stages else []:
        _check_model(config, "eval.models", extra, problems, notes)
    _check_files(config, stages, problems, notes)
    if problems:
        raise DeliberateError("preflight: " + "; ".join(problems))
    return notes


def _check_model(config: PipelineConfig, role: str, ref: str, problems: list[str],
                 notes: list[str]) -> None:
    from deliberate.llm.refs import parse_model_ref

    try:
        parsed = parse_model_ref(ref)
    except DeliberateError as exc:
        problems.append(f"models.{role}: {exc}")
        return
    if parsed.provider == "openai":
        from deliberate.llm.options import endpoint_urls

        for base_url in endpoint_urls(config.options_for(ref).base_url) or [None]:
            error, listed = endpoint_check(base_url, parsed.name)
            if error:
                problems.append(f"models.{role} ({ref}): {error}")
            elif listed and parsed.name not in listed:
                notes.append(f"models.{role}: the endpoint does not list '{parsed.name}' (it "
                             f"lists: {', '.join(listed)}); the stage stops at its first 404 if "
                             "it is not served")
    elif Path(parsed.name).expanduser().exists():
        return
    elif looks_local(parsed.name):
        problems.append(f"models.{role} ({ref}): no such local model {parsed.name}")
    else:
        notes.append(f"models.{role}: {ref} is not a local path; it will be fetched from the hub")


def looks_local(name: str) -> bool:
    """A model name that can only be a local path: a hub id is "name" or "org/name"."""
    return name.startswith((".", "/", "~")) or name.endswith(".gguf") or name.count("/") > 1


def endpoint_check(base_url: str | None, model: str) -> tuple[str | None, list[str]]:
    """(why the endpoint cannot be used, or None; the model ids it lists on ``GET /models``)."""
    import os

    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        return None, []  # the hosted OpenAI API: its key is checked when the stage starts
    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            listing = json.loads(reply.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return (None if exc.code in (401, 403, 404) else f"{url} answered HTTP {exc.code}"), []
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"cannot reach {url} ({getattr(exc, 'reason', exc)})", []
    data = listing.get("data", []) if isinstance(listing, dict) else []
    return None, [str(m.get("id")) for m in data if isinstance(m, dict)]


def _check_files(config: PipelineConfig, stages: list[str], problems: list[str],
                 notes: list[str]) -> None:
    if "sft" in stages:
        _check_mix(config.stages.sft.fields, problems, notes)
    if "label" in stages:
        for source in config.prompts:
            if not source.path.startswith("hf:") and not Path(source.path).is_file():
                problems.append(f"prompts: no such file {source.path}")
    if "eval" not in stages:
        return
    stage = config.stages.eval
    for key in ("strongreject_data", "xstest_data", "spec_prompts", "capability_data"):
        value = getattr(stage, key)
        if value and not value.startswith("hf:") and not Path(value).is_file():
            problems.append(f"stages.eval.{key}: no such file {value}")
    for suite, key in (("strongreject", "strongreject_data"), ("xstest", "xstest_data"),
                       ("capability", "capability_data")):
        if suite in stage.suites and not getattr(stage, key):
            notes.append(f"stages.eval: {suite} data will be downloaded from its public source "
                         f"(set stages.eval.{key} to a local copy to run offline)")


def _check_mix(fields: dict, problems: list[str], notes: list[str]) -> None:
    """SFT's capability mix (GSM8K by default): a local file must exist; a download is said."""
    from deliberate.evals.public_data import GSM8K_TRAIN, cache_dir
    from deliberate.train.capability_mix import DEFAULT_MIX_RATIO, GSM8K

    dataset, ratio = fields.get("mix_dataset", GSM8K), fields.get("mix_ratio", DEFAULT_MIX_RATIO)
    if not ratio or not dataset or str(dataset).lower() == "none":
        return
    if dataset == GSM8K:
        if not (cache_dir() / GSM8K_TRAIN.filename).is_file():
            notes.append("stages.sft: the capability mix (GSM8K train set) will be downloaded from "
                         "its public source (set stages.sft.mix_dataset to a local copy, or "
                         "mix_ratio: 0 for none)")
    elif not str(dataset).startswith("hf:") and not Path(dataset).is_file():
        problems.append(f"stages.sft.mix_dataset: no such file {dataset}")
