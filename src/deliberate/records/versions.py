"""What produced an output: installed package versions and the git revision of the source.

Recorded in the manifests of pipeline runs, evaluations and training runs, so that a result can be
traced to the code and libraries that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

PACKAGES = ("deliberate", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "openai", "vllm")


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """``{name: version}`` for each of ``names`` that is installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision(start: Path | None = None) -> str | None:
    """The commit checked out in the git work tree holding ``start`` (default: this package's
    source), read from ``.git`` without running git; None outside a work tree.

    Handles a ``.git`` directory, and a ``.git`` file (worktrees, submodules) pointing to the
    git directory; branch refs are looked up loose, then in ``packed-refs``.
    """
    here = (start or Path(__file__)).resolve()
    for parent in (here, *here.parents):
        dot_git = parent / ".git"
        if dot_git.is_dir():
            return _head_commit(dot_git)
        if dot_git.is_file():
            pointer = dot_git.read_text(encoding="utf-8").strip()
            if not pointer.startswith("gitdir: "):
                return None
            return _head_commit((parent / pointer[len("gitdir: "):]).resolve())
    return None


def _head_commit(git_dir: Path) -> str | None:
    head = git_dir / "HEAD"
    if not head.is_file():
        return None
    ref = head.read_text(encoding="utf-8").strip()
    if not ref.startswith("ref: "):
        return ref or None  # detached HEAD
    name = ref[len("ref: "):]
    commondir = git_dir / "commondir"  # a worktree keeps its branches in the main git directory
    common = (git_dir / commondir.read_text(encoding="utf-8").strip()).resolve() if commondir.is_file() else git_dir
    for directory in dict.fromkeys((git_dir, common)):
        loose = directory / name
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip() or None
    packed = common / "packed-refs"
    lines = packed.read_text(encoding="utf-8").splitlines() if packed.is_file() else []
    return next((line.split()[0] for line in lines if line.endswith(" " + name)), None)
