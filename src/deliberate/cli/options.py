"""Command-line flags made from config models: one vocabulary for flags, YAML and pipelines.

Every stage has one pydantic config; its fields become the command's flags (``max_tokens`` ->
``--max-tokens``, a bool ``x`` -> ``--x/--no-x``), with the field's description as help and its
default shown. Flags left unset are not passed on, so the config's own default applies: no
default is written twice. ``--config FILE`` reads the same fields from YAML (flags win).
Validation is the config's; a bad value is a usage error naming the flag.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def flag_name(field: str) -> str:
    """``max_tokens`` -> ``--max-tokens``."""
    return "--" + field.replace("_", "-")


def _base_type(annotation: Any) -> Any:
    """``int | None`` -> ``int``; ``list[str]`` -> ``list``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _base_type(args[0])
    return origin or annotation


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _click_type(annotation: Any) -> Any:
    if _optional(annotation):
        return str  # so that "none" can unset it; the config parses the rest
    base = _base_type(annotation)
    if base in (int, float):
        return base
    if base is Path:
        return click.Path(path_type=Path)
    return str


def _default_text(info: FieldInfo) -> str | None:
    if info.default_factory is not None:
        try:  # a factory may read the environment; --help must work whatever it holds
            value = info.default_factory()  # type: ignore[call-arg]
        except Exception:  # noqa: BLE001
            return None
    else:
        value = info.default
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return None  # shown by the flag pair itself
    return str(value)


def option_args(name: str, info: FieldInfo, *, prefix: str = "") -> tuple[list[str], dict[str, Any]]:
    """``click.option`` arguments for one config field (its value arrives as ``prefix + name``)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    flags = [str(f) for f in extra.get("flags", [])] or [flag_name(name)]
    base = _base_type(info.annotation)
    help_text = info.description or ""
    if base is bool:
        pair = flags[0] if "/" in flags[0] else f"{flags[0]}/--no-{flags[0][2:]}"
        return [pair, *flags[1:], prefix + name], {
            "default": None, "help": help_text, "envvar": extra.get("env"),
            "show_envvar": bool(extra.get("env"))}
    if extra.get("multiple"):  # a list given by repeating the flag
        return [*flags, prefix + name], {
            "type": str, "multiple": True, "default": None,
            "metavar": "PATH" if Path in typing.get_args(info.annotation) else "TEXT",
            "help": help_text, "envvar": extra.get("env"), "show_envvar": bool(extra.get("env"))}
    shown = _default_text(info)
    if base is dict:
        help_text += " (JSON object)"
    elif base is list:
        help_text += " (comma-separated)"
    if _optional(info.annotation) and shown is not None:
        help_text += " ('none' turns it off)"
    metavar = {int: "INTEGER", float: "FLOAT", Path: "PATH"}.get(base, "TEXT")
    return [*flags, prefix + name], {
        "type": _click_type(info.annotation), "default": None, "metavar": metavar,
        "help": help_text + (f"  [default: {shown}]" if shown else ""),
        "envvar": extra.get("env"), "show_envvar": bool(extra.get("env"))}


class GroupedOption(click.Option):
    """An option shown under a heading of its own in ``--help`` (see :class:`GroupedCommand`)."""

    def __init__(self, *args: Any, group: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class GroupedCommand(click.Command):
    """A command whose ``--help`` lists its own options first, then each group under a heading."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                group = getattr(param, "group", None) or "Options"
                sections.setdefault(group, []).append(record)
        for title, records in sections.items():
            with formatter.section(title):
                formatter.write_dl(records)


def config_options(model: type[BaseModel], *, exclude: Iterable[str] = (), prefix: str = "",
                   group: str | None = None) -> Decorator:
    """Decorator adding one option per field of ``model`` (in field order), under ``group``."""
    skip = set(exclude)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        fields = [(n, i) for n, i in model.model_fields.items() if n not in skip]
        for name, info in reversed(fields):
            decls, attrs = option_args(name, info, prefix=prefix)
            func = click.option(*decls, cls=GroupedOption, group=group, **attrs)(func)
        return func

    return decorate


def take(values: dict[str, Any], model: type[BaseModel], *, prefix: str = "") -> dict[str, Any]:
    """Pop ``model``'s flags out of a command's keyword arguments; only those the user set."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = values.pop(prefix + name, None)
        if value is None or value == ():  # unset (a repeatable flag given no times: ())
            continue
        if isinstance(value, tuple):
            value = list(value)
        if _base_type(info.annotation) is dict and isinstance(value, str):
            value = _json_object(name, value)
        elif _optional(info.annotation) and str(value).strip().lower() in ("none", "off", "null"):
            value = None
        out[name] = value
    return out


def _json_object(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON ({exc.msg})", param_hint=flag_name(name)) from None


def build(model: type[BaseModel], set_values: dict[str, Any], file_values: dict[str, Any] | None = None) -> Any:
    """``model`` from YAML values overlaid by the flags the user set; errors name the flag."""
    values = {**(file_values or {}), **set_values}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise usage_error(exc, flags=set(set_values)) from None


def usage_error(exc: ValidationError, *, flags: set[str] = frozenset()) -> click.UsageError:
    """One line naming the flag (or config key) and what is wrong with it."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    field = loc[0] if loc else ""
    where = flag_name(field) if field in flags or not loc else ".".join(loc)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown setting"
    return click.UsageError(f"{where}: {message}" if where else message)
