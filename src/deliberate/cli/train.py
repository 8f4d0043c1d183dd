"""The training commands: ``sft`` and ``rl``.

Their flags are the training config's fields (TRL's ``SFTConfig`` / ``GRPOConfig`` plus ours),
parsed by TRL's own parser so that ``--config x.yaml`` and flags combine (flags win) exactly as
in TRL's scripts, and the commands run unchanged under ``accelerate launch -m deliberate.cli``.
``--help`` shows the project's options first, grouped, then the training options most runs set;
``--help-all`` lists every TRL field. torch and TRL load only when a command runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

SETTINGS: dict[str, Any] = {
    "context_settings": {"ignore_unknown_options": True, "allow_extra_args": True,
                         "help_option_names": []},
    "add_help_option": False,
}

COMMON = {
    "sft": ("output_dir", "max_steps", "num_train_epochs", "learning_rate",
            "per_device_train_batch_size", "gradient_accumulation_steps", "max_length", "packing",
            "lr_scheduler_type", "warmup_steps", "gradient_checkpointing", "bf16", "logging_steps",
            "save_strategy", "save_steps", "seed", "report_to", "chat_template_path",
            "resume_from_checkpoint"),
    "rl": ("output_dir", "max_steps", "num_train_epochs", "learning_rate",
           "per_device_train_batch_size", "gradient_accumulation_steps", "num_generations",
           "max_completion_length", "temperature", "beta", "reward_weights", "use_vllm",
           "vllm_mode", "gradient_checkpointing", "bf16", "logging_steps", "save_strategy",
           "save_steps", "seed", "report_to", "resume_from_checkpoint"),
}


def _config_type(name: str) -> type:
    from deliberate.train.config import RLTrainConfig, SFTTrainConfig

    return SFTTrainConfig if name == "sft" else RLTrainConfig


def _metavar(annotation: Any) -> str:
    """A field's type as a flag's value name: INT, FLOAT, LIST or TEXT."""
    text = str(annotation).replace("typing.", "")
    for name, shown in (("list", "LIST"), ("dict", "JSON"), ("float", "FLOAT"), ("int", "INT")):
        if name in text:
            return shown
    return "TEXT"


def _flag_line(field: dataclasses.Field) -> str:
    import textwrap

    flag = "--" + field.name.replace("_", "-")
    default = field.default if field.default is not dataclasses.MISSING else None
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        default = field.default_factory()  # type: ignore[misc]
    is_bool = "bool" in str(field.type)
    left = flag if is_bool else f"{flag} {_metavar(field.type)}"
    help_text = " ".join(str(field.metadata.get("help", "")).split()).replace("%%", "%")
    if default not in (None, "", [], False) and not (is_bool and default is True):
        help_text += f" [default: {default}]"
    elif is_bool and default is True:
        help_text += " [default: true; --" + field.name.replace("_", "-") + " false to turn off]"
    body = textwrap.wrap(help_text, 70) or [""]
    if len(left) > 28:
        return "\n".join([f"  {left}", *(f"{' ' * 31}{line}" for line in body)])
    return "\n".join([f"  {left:<28} {body[0]}", *(f"{' ' * 31}{line}" for line in body[1:])])


def help_text(name: str) -> str:
    """The grouped help of ``deliberate sft`` / ``rl``."""
    from deliberate.train.config import ModelFields

    config_type = _config_type(name)
    fields = {f.name: f for f in dataclasses.fields(config_type)}
    ours = [f.name for f in dataclasses.fields(ModelFields)]
    own = [n for n in config_type.__dataclass_fields__ if n in config_type.__annotations__]
    sections = [
        ("Model and data", ours),
        ("Deliberative alignment", [n for n in own if n not in ours]),
        ("Training (TRL fields; --help-all lists every one)", list(COMMON[name])),
    ]
    doc = (config_type.__doc__ or "").strip().splitlines()[0]
    lines = [f"Usage: deliberate {name} [--config FILE.yaml] [--FIELD VALUE ...]", "", f"  {doc}", "",
             "Options:", "  --config FILE                YAML file of fields (flags win)",
             "  --help-all                   Every field, TRL's and transformers' included", ""]
    for title, names in sections:
        lines += [f"{title}:", *(_flag_line(fields[n]) for n in names if n in fields), ""]
    return "\n".join(lines)


def _run(name: str, args: list[str]) -> None:
    if "--help" in args or "-h" in args:
        click.echo(help_text(name))
        return
    from deliberate.train.config import parse_config

    config_type = _config_type(name)
    if "--help-all" in args:
        args = ["--help"]
    config = parse_config(config_type, args)
    if name == "sft":
        from deliberate.train.sft import run_sft

        result = run_sft(config)
    else:
        from deliberate.train.rl import run_rl

        result = run_rl(config)
    _done(name, result)


@click.command("sft", **SETTINGS)
@click.pass_context
def sft(ctx: click.Context) -> None:
    """Supervised fine-tuning on spec-citing chains of thought (spec removed from the context)."""
    _run("sft", list(ctx.args))


@click.command("rl", **SETTINGS)
@click.pass_context
def rl(ctx: click.Context) -> None:
    """GRPO with a spec-aware judge scoring the final answer only."""
    _run("rl", list(ctx.args))


def _done(name: str, result: Any) -> None:
    import os

    if os.environ.get("RANK", "0") != "0":  # one summary per run, not per process
        return
    step = getattr(result, "global_step", "?")
    out = getattr(result, "output_dir", "?")
    click.echo(f"{name}: trained to step {step}; model in {out} (use hf/{out})", err=True)
