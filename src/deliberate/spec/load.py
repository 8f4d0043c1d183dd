"""Loading a spec from YAML with errors that point at the field and the line.

Validation errors from pydantic carry a path such as ``categories.2.rules.0.mode``; we walk the
composed YAML node tree along that path to report the line the user must edit.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from deliberate.errors import InputFileError
from deliberate.spec.model import Spec

DEFAULT_SPEC_NAME = "default"


def default_spec_path() -> Path:
    """Path of the spec shipped with the package."""
    return Path(str(resources.files("deliberate") / "specs" / f"{DEFAULT_SPEC_NAME}.yaml"))


def load_spec(path: str | Path | None = None) -> Spec:
    """Load and validate a spec; ``None`` or ``"default"`` loads the shipped default spec.

    Raises:
        InputFileError: missing file, non-UTF-8 bytes, YAML syntax error, or a schema violation;
            the message names the file, the field and, where known, the line.
    """
    if path is None or str(path) == DEFAULT_SPEC_NAME:
        path = default_spec_path()
    path = Path(path)
    text = _read_text(path)
    root, data = _parse_yaml(path, text)
    if not isinstance(data, dict):
        raise InputFileError(path, "not a YAML mapping (expected keys name, version, ...)")
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(path, root, exc) from None


def read_yaml_file(path: str | Path) -> Any:
    """Parse a YAML file with the same checks as specs (UTF-8, syntax line, duplicate keys)."""
    path = Path(path)
    return _parse_yaml(path, _read_text(path))[1]


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a directory, expected a YAML file")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "not valid UTF-8 text", line=line) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


MAX_YAML_NODES = 200_000
"""Nodes a YAML document may expand to, aliases counted each time they are used: a few
lines of nested aliases (a "billion laughs" file) would otherwise eat all memory."""


def _expanded_size(node: yaml.Node | None, limit: int) -> int:
    """How many nodes ``node`` expands to, counting aliased nodes at every use; stops past ``limit``."""
    count, stack = 0, [node] if node is not None else []
    while stack and count <= limit:
        current = stack.pop()
        count += 1
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(n for pair in current.value for n in pair)
    return count


def _parse_yaml(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if _expanded_size(root, MAX_YAML_NODES) > MAX_YAML_NODES:
            raise InputFileError(path, f"YAML expands to more than {MAX_YAML_NODES:,} nodes "
                                 "(nested aliases?); refusing to load it")
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        raise InputFileError(path, f"YAML syntax error: {problem}", line=line) from None
    if data is None:
        raise InputFileError(path, "empty YAML document")
    return root, data


def _spec_error(path: Path, root: yaml.Node | None, exc: ValidationError) -> InputFileError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    field = ".".join(str(p) for p in loc) or "<root>"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "enum":
        message = f"unknown response mode {first.get('input')!r} (use comply, safe_complete, refuse)"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return InputFileError(path, f"{field}: {message}{suffix}", line=_line_of(root, loc))


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node reachable along a pydantic error path."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
