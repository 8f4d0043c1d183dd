"""Locating and verifying the official files: given folder, installed package, download, cache,
fallback. Nothing here touches the network: downloads are replaced by copies of the shared
official files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from deliberate.errors import DeliberateError
from deliberate.evals.jailbreaks import apply_jailbreak, assets, assets_status

from .conftest import PROMPT

WRAPPING = "wrapping_jailbreaks.json"


def test_official_copy_passes(official_dir):
    for name in assets.OFFICIAL_FILES:
        status = assets.locate(name, official_dir)
        assert status.official and status.source == "assets dir"
        assert status.path == official_dir / name
    data, status = assets.official_json("judge_templates.json", official_dir)
    assert "strongreject_rubric" in data and status.official


def test_env_var_is_the_default_folder(use_official):
    status = assets_status()
    assert status.official and status.path == use_official / WRAPPING
    assert status.label == "StrongREJECT (official templates)"


def test_package_layout_in_the_given_folder(official_dir, tmp_path):
    (tmp_path / "jailbreak_files").mkdir()
    shutil.copy(official_dir / WRAPPING, tmp_path / "jailbreak_files" / WRAPPING)
    assert assets_status(tmp_path).path == tmp_path / "jailbreak_files" / WRAPPING


def test_tampered_copy_is_an_error_naming_the_file(official_dir, tmp_path):
    tampered = tmp_path / WRAPPING
    tampered.write_bytes((official_dir / WRAPPING).read_bytes().replace(b"Wikipedia", b"Wikipedio"))
    with pytest.raises(DeliberateError, match=f"{tampered}.*not that of the official"):
        assets_status(tmp_path)
    with pytest.raises(DeliberateError, match=WRAPPING):
        apply_jailbreak("aim", PROMPT, assets_dir=tmp_path)


def test_missing_file_falls_back_visibly(tmp_path):
    status = assets_status(tmp_path)
    assert (status.official, status.source, status.path) == (False, "fallback", None)
    assert WRAPPING in status.reason and str(tmp_path) in status.reason
    assert status.label.startswith("StrongREJECT-style, not comparable")
    assert "wicked confidant" in apply_jailbreak("evil_confidant", PROMPT, assets_dir=tmp_path)


def test_a_folder_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(DeliberateError, match="does not exist"):
        assets_status(tmp_path / "nope")


def test_installed_package_is_used_without_importing_it(official_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(assets.ENV_VAR)
    package = tmp_path / "site" / "strong_reject"
    (package / "jailbreak_files").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    shutil.copy(official_dir / WRAPPING, package / "jailbreak_files" / WRAPPING)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    status = assets_status()
    assert status.official and status.source == "strong_reject package"
    assert status.path == package / "jailbreak_files" / WRAPPING


@pytest.fixture
def downloads(official_dir, tmp_path, monkeypatch):
    """No folder given, no package: downloads come from the shared copies into a tmp cache."""
    monkeypatch.delenv(assets.ENV_VAR)
    monkeypatch.setattr(assets, "_in_package", lambda entry: None)
    monkeypatch.setattr(assets, "cache_dir", lambda: tmp_path / "cache")
    fetched: list[str] = []

    def fake_fetch(url: str, dest) -> None:
        fetched.append(url)
        dest.write_bytes((official_dir / url.rsplit("/", 1)[-1]).read_bytes())

    monkeypatch.setattr(assets, "_fetch", fake_fetch)
    return fetched


def test_downloaded_once_then_cached(downloads, tmp_path):
    first = assets_status()
    assert first.official and first.source == "download"
    assert downloads == [f"{assets.RAW_BASE}/jailbreak_files/{WRAPPING}"]
    assets.clear_cache()
    again = assets_status()
    assert again.source == "cache" and again.path == tmp_path / "cache" / WRAPPING
    assert len(downloads) == 1
    judge = assets.locate("judge_templates.json")
    assert judge.official and downloads[-1].endswith("/eval_files/judge_templates.json")


def test_corrupt_cache_is_downloaded_again(downloads, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / WRAPPING).write_text("{}")
    assert assets_status().source == "download" and len(downloads) == 1


def test_tampered_download_is_an_error(downloads, monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "_fetch", lambda url, dest: dest.write_text("{}"))
    with pytest.raises(DeliberateError, match=WRAPPING):
        assets_status()
    assert not any((tmp_path / "cache").iterdir())  # nothing half-written is kept


def test_offline_falls_back_with_the_reason(downloads, monkeypatch):
    def offline(url, dest):
        raise OSError("Name or service not known")

    monkeypatch.setattr(assets, "_fetch", offline)
    status = assets_status()
    assert not status.official and "could not download" in status.reason
    assert "Name or service not known" in status.reason


def test_nothing_is_downloaded_at_import_or_selection(tmp_path):
    code = (
        "import urllib.request\n"
        "def boom(*a, **k): raise SystemExit('network touched')\n"
        "urllib.request.urlopen = boom\n"
        "import deliberate.evals.jailbreaks as jb\n"
        "jb.jailbreak_names('all'); jb.apply_jailbreak('rot_13', 'x')\n"
        "jb.apply_jailbreak('bon_1', 'x'); jb.decode_response('base64', 'SGk=')\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != assets.ENV_VAR}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False)
    assert out.stdout.strip() == "ok", out.stderr
    assert not (tmp_path / "deliberate").exists()
