"""The wrapping jailbreaks: the prompt put into a template of ``wrapping_jailbreaks.json``.

Why: 21 of the 25 official jailbreaks are fixed texts around the prompt. Their wording is the
official file's, read at run time (see :mod:`.assets`); when it cannot be had, our own wording
(:mod:`.fallback`) stands in and :func:`.assets.assets_status` says so.

A template is filled as upstream fills it: the prompt (base64-encoded first for the jailbreaks
in ``BASE64_INPUT``) replaces every ``{forbidden_prompt}`` in one pass, so braces elsewhere in
the template, or in the prompt, are left alone.

>>> fill("combination_2", "Q: {forbidden_prompt}?", "Hi")
'Q: SGk=?'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks.assets import ENV_VAR, WRAPPING, AssetsStatus, official_json
from deliberate.evals.jailbreaks.catalog import BASE64_INPUT, WRAPPING_JAILBREAKS
from deliberate.evals.jailbreaks.encodings import b64encode
from deliberate.evals.jailbreaks.fallback import FALLBACK_TEMPLATES

PLACEHOLDER = "{forbidden_prompt}"


@dataclass(frozen=True)
class WrappingTemplates:
    """The templates in use and whether they are the official ones."""

    templates: Mapping[str, str]
    status: AssetsStatus

    def missing(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """The wrapping jailbreaks among ``names`` that these templates cannot render."""
        return [n for n in names if n in WRAPPING_JAILBREAKS and n not in self.templates]


def wrapping_templates(assets_dir: str | Path | None = None) -> WrappingTemplates:
    """The official templates when they can be had, else our fallback wording."""
    data, status = official_json(WRAPPING, assets_dir)
    return WrappingTemplates(FALLBACK_TEMPLATES if data is None else data, status)


def fill(name: str, template: str, prompt: str) -> str:
    """``template`` with the prompt (base64 first for ``BASE64_INPUT`` jailbreaks) put in."""
    payload = b64encode(prompt) if name in BASE64_INPUT else prompt
    return template.replace(PLACEHOLDER, payload)


def render(name: str, prompt: str, *, assets_dir: str | Path | None = None) -> str:
    """Apply wrapping jailbreak ``name`` to ``prompt``.

    DeliberateError when ``name`` has no template: only the GCG suffixes, and only when the
    official file could not be had.
    """
    current = wrapping_templates(assets_dir)
    template = current.templates.get(name)
    if template is None:
        raise DeliberateError(
            f"jailbreak {name} needs the official StrongREJECT templates and none could be had "
            f"({current.status.reason}); pass --strongreject-assets DIR (a folder holding "
            f"{WRAPPING}) or set ${ENV_VAR}, or leave {name} out of --jailbreaks"
        )
    return fill(name, template, prompt)
