"""The pipeline config: one YAML file naming the spec, prompts, models and every stage's settings.

Each ``stages.<name>`` section is that stage's own config (the fields of ``deliberate <name>``'s
flags, with underscores) plus ``enabled``; ``stages.sft`` / ``stages.rl`` take the training
config's fields (TRL's included). Unknown keys are errors: a typo must not silently fall back to
a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deliberate.errors import InputFileError
from deliberate.evals.config import EvalConfig
from deliberate.generate.cot import GenerateConfig
from deliberate.generate.label import LabelConfig
from deliberate.judge.filter import FilterConfig
from deliberate.judge.judge import JudgeConfig
from deliberate.llm.options import BackendOptions
from deliberate.pipeline.batching import BatchSetting
from deliberate.records.stage_output import DEFAULT_MAX_FAILURE_RATE
from deliberate.report.build import ReportConfig

STAGES = ("label", "generate", "judge", "filter", "sft", "rl", "eval", "report")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromptSource(_Strict):
    path: str = Field(description="JSONL / CSV / Parquet file, or hf:NAME[:SPLIT].")
    prompt_col: str = Field(default="prompt", description="Column with the prompt text.")
    id_col: str | None = Field(default="id", description="Column with a stable id.")
    category_col: str | None = Field(default="category", description="Column with categories.")
    limit: int | None = Field(default=None, ge=1, description="Seeded subsample of this source.")


class Models(_Strict):
    labeler: str | None = Field(default=None, description="Labels prompts without a category.")
    teacher: str | None = Field(default=None, description="Writes spec-citing CoT + answers.")
    judge: str | None = Field(default=None, description="Spec-aware judge (filter, RL reward, eval).")
    student: str | None = Field(default=None, description="Model to train (hf/...).")
    grader: str | None = Field(default=None, description="Eval grader; None: the no-API refusal grader.")


class LabelStage(LabelConfig, BatchSetting):
    enabled: bool = True


class GenerateStage(GenerateConfig, BatchSetting):
    enabled: bool = True


class JudgeStage(JudgeConfig, BatchSetting):
    enabled: bool = True


class FilterStage(FilterConfig):
    enabled: bool = True


class TrainStage(BaseModel):
    """``enabled`` plus any field of the training config (checked when the stage is built)."""

    model_config = ConfigDict(extra="allow")

    enabled: bool = True

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EvalStage(EvalConfig):
    enabled: bool = True
    models: list[str] = Field(default_factory=list, description="Other models to evaluate with the "
                              "trained one (e.g. the base student, for before/after).")


class ReportStage(ReportConfig):
    enabled: bool = True


class Stages(_Strict):
    label: LabelStage = Field(default_factory=LabelStage)
    generate: GenerateStage = Field(default_factory=GenerateStage)
    judge: JudgeStage = Field(default_factory=JudgeStage)
    filter: FilterStage = Field(default_factory=FilterStage)
    sft: TrainStage = Field(default_factory=TrainStage)
    rl: TrainStage = Field(default_factory=lambda: TrainStage(enabled=False))
    eval: EvalStage = Field(default_factory=EvalStage)
    report: ReportStage = Field(default_factory=ReportStage)


def stage_config(section: BaseModel, config_type: type[Any]) -> Any:
    """A pipeline stage section as the stage's own config (``enabled`` and extras dropped)."""
    names = set(config_type.model_fields)
    return config_type.model_validate({k: v for k, v in section.model_dump().items() if k in names})


class PipelineConfig(_Strict):
    """Everything ``deliberate run`` needs."""

    run_dir: Path = Field(description="Directory holding every output of the run.")
    spec: str = Field(default="default", description="Spec YAML (relative to the config file) or 'default'.")
    prompts: list[PromptSource] = Field(min_length=1)
    models: Models = Field(default_factory=Models)
    backend: BackendOptions = Field(default_factory=lambda: BackendOptions(progress=True))
    endpoints: dict[str, str] = Field(default_factory=dict, description="model ref -> base URL override.")
    stages: Stages = Field(default_factory=Stages)
    max_failure_rate: float = Field(default=DEFAULT_MAX_FAILURE_RATE, ge=0.0, le=1.0,
                                    description="A stage in which "
                                    "more than this share of items failed stops the run (exit 3).")

    def options_for(self, model: str | None) -> BackendOptions:
        """Backend options for one model: its endpoint override, the run's cache."""
        update: dict[str, Any] = {"cache": self.backend.cache or self.run_dir / "cache.sqlite"}
        if model in self.endpoints:
            update["base_url"] = self.endpoints[model]
        return self.backend.model_copy(update=update)


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    """Read and validate; relative paths resolve against the config file's folder."""
    from deliberate.records.jsonl import describe_validation_error
    from deliberate.spec.load import read_yaml_file

    path = Path(path)
    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise InputFileError(path, "not a YAML mapping")
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(path, describe_validation_error(exc)) from None
    return resolve_paths(config, path.resolve().parent)


def resolve_paths(config: PipelineConfig, base: Path) -> PipelineConfig:
    def fix(p: str) -> str:
        if p == "default" or p.startswith("hf:") or Path(p).is_absolute():
            return p
        return str(base / p)

    prompts = [s.model_copy(update={"path": fix(s.path)}) for s in config.prompts]
    run_dir = config.run_dir if config.run_dir.is_absolute() else base / config.run_dir
    data = {k: fix(v) for k in ("strongreject_data", "xstest_data", "spec_prompts")
            if (v := getattr(config.stages.eval, k))}
    stages = config.stages.model_copy(update={"eval": config.stages.eval.model_copy(update=data)})
    return config.model_copy(update={"prompts": prompts, "spec": fix(config.spec), "run_dir": run_dir,
                                     "stages": stages})


def dump_config(config: PipelineConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
