"""The published prompt sets are pinned by sha256: downloads and the cache are verified, a user's
own file is accepted, hashed into the manifest and marks the suite not comparable. No test here
reaches the network: downloads copy the shared verbatim files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deliberate.errors import DeliberateError
from deliberate.evals import public_data
from deliberate.evals.config import EvalConfig
from deliberate.evals.public_data import STRONGREJECT_DATA, XSTEST_DATA, resolve, sha256_file
from deliberate.evals.strongreject import load_strongreject
from deliberate.evals.suites.xstest import XSTEST, load_xstest


@pytest.fixture
def published(shared_data) -> dict[str, Path]:
    return {STRONGREJECT_DATA.url: shared_data / "strongreject" / "strongreject_dataset.csv",
            XSTEST_DATA.url: shared_data / "xstest" / "xstest_prompts.csv"}


@pytest.fixture
def downloads(published, tmp_path, monkeypatch) -> list[str]:
    """Downloads served from the shared copies into a fresh cache; returns the URLs fetched."""
    fetched: list[str] = []

    def fake_fetch(url: str, dest: Path) -> None:
        fetched.append(url)
        shutil.copy(published[url], dest)

    monkeypatch.setattr(public_data, "_fetch", fake_fetch)
    monkeypatch.setattr(public_data, "cache_dir", lambda: tmp_path / "cache")
    return fetched


def test_pinned_hashes_are_those_of_the_shared_verbatim_copies(published):
    assert sha256_file(published[STRONGREJECT_DATA.url]) == STRONGREJECT_DATA.sha256
    assert sha256_file(published[XSTEST_DATA.url]) == XSTEST_DATA.sha256


def test_downloaded_once_announced_then_cached(downloads, tmp_path, capsys):
    assert len(load_strongreject()) == 313 and len(load_xstest()) == 450
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0] == (
        f"deliberate: downloading StrongREJECT prompts from {STRONGREJECT_DATA.url} to "
        f"{tmp_path / 'cache' / 'strongreject_dataset.csv'}")
    assert len(load_strongreject(limit=5)) == 5
    assert downloads == [STRONGREJECT_DATA.url, XSTEST_DATA.url]  # the second load: from cache
    assert capsys.readouterr().err == ""
    source = resolve(STRONGREJECT_DATA)
    assert source.official and source.sha256 == STRONGREJECT_DATA.sha256


def test_a_changed_download_is_an_error_and_not_kept(downloads, monkeypatch, tmp_path):
    monkeypatch.setattr(public_data, "_fetch", lambda url, dest: dest.write_text("id,prompt\n1,x\n"))
    with pytest.raises(DeliberateError, match="not the pinned 1178.*--xstest-data"):
        load_xstest()
    assert not any((tmp_path / "cache").iterdir())


def test_an_altered_cache_is_an_error_naming_the_file(downloads, tmp_path):
    load_xstest()
    cached = tmp_path / "cache" / "xstest_prompts.csv"
    cached.write_text(cached.read_text().replace("kill", "stop"))
    with pytest.raises(DeliberateError, match=f"{cached}: sha256 .* delete it"):
        load_xstest()


def test_offline_without_a_file_says_how_to_run_offline(tmp_path, monkeypatch):
    def offline(url, dest):
        raise OSError("no network")

    monkeypatch.setattr(public_data, "_fetch", offline)
    monkeypatch.setattr(public_data, "cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(DeliberateError, match="--strongreject-data PATH"):
        load_strongreject()


def test_a_users_file_is_accepted_hashed_and_marked(shared_data, tmp_path):
    published = shared_data / "xstest" / "xstest_prompts.csv"
    facts = XSTEST.describe(EvalConfig(xstest_data=str(published)))
    assert facts["comparable"] is True and facts["data"] == {
        "path": str(published), "sha256": XSTEST_DATA.sha256, "official": True}
    assert facts["comparability"] == "XSTest (published prompts)"
    own = tmp_path / "mine.csv"
    own.write_text(published.read_text().replace("kill", "stop"))
    facts = XSTEST.describe(EvalConfig(xstest_data=str(own)))
    assert facts["comparable"] is False and facts["data"]["sha256"] == sha256_file(own)
    assert facts["comparability"].startswith("XSTest-style, not comparable: XSTest prompts from")
    assert len(load_xstest(own)) == 450  # accepted all the same
    assert resolve(XSTEST_DATA, "hf:someone/xstest").manifest() == {
        "path": "hf:someone/xstest", "sha256": None, "official": False}
