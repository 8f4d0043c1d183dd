"""Locating and verifying the official StrongREJECT files (jailbreak templates, grader prompts).

Why: numbers are only comparable with published StrongREJECT results when the prompts are the
published ones, byte for byte. We do not ship those files (they are someone else's data); we
read them at run time and check each against the sha256 of the published version, so a
different or edited copy can never pass for the official one.

Where a file comes from, first match wins:

1. a directory the user gives (``assets_dir``, i.e. ``--strongreject-assets DIR``, else the
   ``DELIBERATE_STRONGREJECT_ASSETS`` environment variable), holding the files flat or in the
   package layout (``jailbreak_files/``, ``eval_files/``). A given directory wins over an
   installed package so that a user can always say which copy to use; when it lacks a file
   nothing is downloaded (the user asked for that directory);
2. the installed ``strong_reject`` package (found without importing it: importing pulls in
   heavy dependencies);
3. the user cache dir (``platformdirs.user_cache_dir("deliberate")/strongreject``), filled by
   one download from the official GitHub repository the first time a file is needed.

A copy whose hash does not match is an error naming the file. When no copy can be had
(offline, nothing given) :func:`official_json` returns None with the reason, and the caller
falls back to our own wording, reported as ``official=False`` by :func:`assets_status`.
Nothing is read or downloaded at import time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError

ENV_VAR = "DELIBERATE_STRONGREJECT_ASSETS"
RAW_BASE = "https://raw.githubusercontent.com/dsbowen/strong_reject/main/strong_reject"
WRAPPING = "wrapping_jailbreaks.json"
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class OfficialFile:
    """One published file: where it sits in the ``strong_reject`` package, and its hash."""

    filename: str
    subdir: str
    sha256: str

    @property
    def url(self) -> str:
        return f"{RAW_BASE}/{self.subdir}/{self.filename}"


OFFICIAL_FILES: dict[str, OfficialFile] = {
    f.filename: f
    for f in (
        OfficialFile(WRAPPING, "jailbreak_files",
                     "805a29aec6b2d7129ce044663da73fcca219786cba863514ebc533180d580746"),
        OfficialFile("pap_persuasion_templates.json", "jailbreak_files",
                     "6d92b7eaeb40b6b0fc9f90e4c37c3f3695b7a79e04e5c6e43b960fdb9283ac15"),
        OfficialFile("pair_templates.json", "jailbreak_files",
                     "e8b4a5efc1425c0d0e59e127b4b1a17814f53ffba9b6239b36ab9b84d9ba663c"),
        OfficialFile("judge_templates.json", "eval_files",
                     "722d5aacfc6ae769d475d3cc8293b8f59fa03194cd5fa22be187e1591322350c"),
    )
}


@dataclass(frozen=True)
class AssetsStatus:
    """Whether the official file is in use and, if not, why not."""

    filename: str
    official: bool
    source: str  # "assets dir" | "strong_reject package" | "cache" | "download" | "fallback"
    path: Path | None
    reason: str

    @property
    def label(self) -> str:
        """What a report should call the results run with these templates."""
        if self.official:
            return "StrongREJECT (official templates)"
        return f"StrongREJECT-style, not comparable ({self.reason})"


def cache_dir() -> Path:
    """Where downloaded official files are kept."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("deliberate")) / "strongreject"


def verify(path: Path, entry: OfficialFile) -> Path:
    """``path`` if its sha256 is the published one; DeliberateError naming the file if not."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry.sha256:
        raise DeliberateError(
            f"{path}: sha256 {digest} is not that of the official StrongREJECT "
            f"{entry.filename} ({entry.sha256}); use an unmodified copy of {entry.url}"
        )
    return path


def _given_dir(assets_dir: str | Path | None) -> Path | None:
    value = assets_dir if assets_dir is not None else os.environ.get(ENV_VAR) or None
    if value is None:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise DeliberateError(f"StrongREJECT assets directory {folder} does not exist "
                              f"(from --strongreject-assets or ${ENV_VAR})")
    return folder


def _in_dir(folder: Path, entry: OfficialFile) -> Path | None:
    for candidate in (folder / entry.filename, folder / entry.subdir / entry.filename,
                      folder / "strong_reject" / entry.subdir / entry.filename):
        if candidate.is_file():
            return candidate
    return None


def _in_package(entry: OfficialFile) -> Path | None:
    try:
        spec = importlib.util.find_spec("strong_reject")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / entry.subdir / entry.filename
        if candidate.is_file():
            return candidate
    return None


def _fetch(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (tests replace this; they never touch the network)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        dest.write_bytes(response.read())


def _from_cache(entry: OfficialFile) -> tuple[Path | None, str]:
    """The cached copy, downloading it first if need be; (None, reason) when offline."""
    target = cache_dir() / entry.filename
    if target.is_file():
        try:
            return verify(target, entry), "cache"
        except DeliberateError:
            target.unlink()  # a stale or torn download: fetch it again
    partial = target.with_name(f".{entry.filename}.part")
    from deliberate.evals.public_data import announce_download

    announce_download(f"the official StrongREJECT {entry.filename}", entry.url, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _fetch(entry.url, partial)
    except Exception as exc:  # noqa: BLE001 -- offline, DNS, HTTP, read-only cache: "not here"
        partial.unlink(missing_ok=True)
        return None, f"could not download {entry.url}: {exc}"
    try:
        verify(partial, entry)
    except DeliberateError:
        partial.unlink(missing_ok=True)
        raise DeliberateError(f"downloaded {entry.url} does not match the published sha256 "
                              f"of {entry.filename} ({entry.sha256})") from None
    os.replace(partial, target)
    return target, "download"


def locate(filename: str, assets_dir: str | Path | None = None) -> AssetsStatus:
    """Find and verify the official ``filename`` (see the module docstring for the order)."""
    entry = OFFICIAL_FILES[filename]
    folder = _given_dir(assets_dir)
    if folder is not None:
        found = _in_dir(folder, entry)
        if found is None:
            return AssetsStatus(filename, False, "fallback", None, f"{filename} not in {folder}")
        return AssetsStatus(filename, True, "assets dir", verify(found, entry), "")
    found = _in_package(entry)
    if found is not None:
        return AssetsStatus(filename, True, "strong_reject package", verify(found, entry), "")
    path, how = _from_cache(entry)
    if path is None:
        return AssetsStatus(filename, False, "fallback", None, how)
    return AssetsStatus(filename, True, how, path, "")


@lru_cache(maxsize=32)
def _load(filename: str, given: str | None) -> tuple[Any, AssetsStatus]:
    status = locate(filename, given)
    data = json.loads(status.path.read_text(encoding="utf-8")) if status.path else None
    return data, status


def _key(assets_dir: str | Path | None) -> str | None:
    return str(assets_dir) if assets_dir is not None else os.environ.get(ENV_VAR) or None


def official_json(filename: str, assets_dir: str | Path | None = None) -> tuple[Any, AssetsStatus]:
    """The parsed official file (None when none can be had) and where it came from.

    Looked up once per process for each ``assets_dir``; a failed download is not retried for
    every prompt. :func:`clear_cache` forgets.
    """
    return _load(filename, _key(assets_dir))


def assets_status(assets_dir: str | Path | None = None, filename: str = WRAPPING) -> AssetsStatus:
    """Whether the jailbreak templates (or another official file) are the official ones.

    ``official=False`` means our own wording is in use: results are "StrongREJECT-style, not
    comparable" with published numbers, and ``reason`` says why (see :attr:`AssetsStatus.label`).
    May download the file (once) when nothing is given and no package is installed.
    """
    return official_json(filename, assets_dir)[1]


def clear_cache() -> None:
    """Forget the files loaded so far (after changing the environment, in tests)."""
    _load.cache_clear()
