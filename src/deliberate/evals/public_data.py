"""The public data sets (StrongREJECT, XSTest, GSM8K), pinned by sha256.

Why: a published number is only comparable with ours when the prompts are the published ones.
Loaded from the public URL (once, into the user cache) or from the cache, a file must have the
sha256 of the published version; anything else is an error that says so (the published file
changed, or the copy was altered). A file the user gives (``--strongreject-data``,
``--xstest-data``) is accepted as it is: its sha256 goes into the manifest
(:meth:`DataSource.manifest`), and a file that is not the published one makes the suite
"not comparable". The pinned hashes are those of the files at the URLs below (the XSTest one
checked against the repository at commit d7bb5bd; the StrongREJECT one is that of a verbatim
copy of the published CSV; the GSM8K ones those of the files of openai/grade-school-math at
commit 3101c7d). Every download is announced on stderr.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from deliberate.errors import DeliberateError

DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class PublicData:
    """One published prompt file: where it is, its sha256, and the flag that replaces it."""

    name: str
    url: str
    sha256: str
    flag: str
    cache_name: str | None = None  # the cached copy's name, where the URL's is too generic

    @property
    def filename(self) -> str:
        return self.cache_name or self.url.rsplit("/", 1)[-1]


STRONGREJECT_DATA = PublicData(
    "StrongREJECT prompts",
    "https://raw.githubusercontent.com/alexandrasouly/strongreject/main/strongreject_dataset/"
    "strongreject_dataset.csv",
    "4dd70357e4ff8b5d0ba5ebafecab5d6dd5633ce8046e3dd1c8bd93e64de44381",
    "--strongreject-data",
)
XSTEST_DATA = PublicData(
    "XSTest prompts",
    "https://raw.githubusercontent.com/paul-rottger/exaggerated-safety/main/xstest_prompts.csv",
    "11783fb294ed017473ee53c207d71f2161c7672c8d0b037501e78387f801cb5a",
    "--xstest-data",
)

GSM8K_COMMIT = "3101c7d5072418e28b9008a6636bde82a006892c"
_GSM8K_URL = f"https://raw.githubusercontent.com/openai/grade-school-math/{GSM8K_COMMIT}/grade_school_math/data/"
GSM8K_TEST = PublicData("GSM8K test set", _GSM8K_URL + "test.jsonl",
                        "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
                        "--capability-data", cache_name="gsm8k_test.jsonl")
GSM8K_TRAIN = PublicData("GSM8K train set", _GSM8K_URL + "train.jsonl",
                         "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
                         "--mix_dataset", cache_name="gsm8k_train.jsonl")


@dataclass(frozen=True)
class DataSource:
    """The file a suite reads, its sha256 (None for ``hf:`` sources), and if it is the published one."""

    path: str
    sha256: str | None
    official: bool

    def manifest(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "official": self.official}

    def reason(self, data: PublicData) -> str:
        """Why this source is not comparable ('' when it is the published file)."""
        if self.official:
            return ""
        published = data.url.rsplit("/", 1)[-1]
        if self.sha256 is None:
            return f"{data.name} from {self.path}, not the published {published}"
        return (f"{data.name} from {self.path} (sha256 {self.sha256[:12]}...), not the published "
                f"{published} (sha256 {data.sha256[:12]}...)")


def cache_dir() -> Path:
    """Where downloaded prompt files are kept."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("deliberate")) / "data"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve(data: PublicData, given: str | Path | None = None) -> DataSource:
    """The file to load: ``given`` as it is (hashed), else the verified published copy."""
    if given is None:
        return DataSource(str(fetch(data)), data.sha256, True)
    path = Path(given)
    if str(given).startswith("hf:") or not path.is_file():
        return DataSource(str(given), None, False)  # the loader reports a missing file
    digest = sha256_file(path)
    return DataSource(str(path), digest, digest == data.sha256)


def announce_download(what: str, url: str, dest: Path) -> None:
    """One line on stderr before a download: what, from where, to where."""
    print(f"deliberate: downloading {what} from {url} to {dest}", file=sys.stderr, flush=True)


def _fetch(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (tests replace this; they never touch the network)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        dest.write_bytes(response.read())


def fetch(data: PublicData) -> Path:
    """The verified cached copy of ``data``, downloaded first if need be.

    Raises:
        DeliberateError: the cached or downloaded file is not the published one, or the
            download failed (with the flag that takes a local copy instead).
    """
    target = cache_dir() / data.filename
    if target.is_file():
        digest = sha256_file(target)
        if digest != data.sha256:
            raise DeliberateError(
                f"{target}: sha256 {digest} is not that of the published {data.name} "
                f"({data.sha256}); delete it to download {data.url} again, or pass a file with "
                f"{data.flag} (recorded as not comparable unless it is the published file)")
        return target
    partial = target.with_name(f".{data.filename}.part")
    announce_download(data.name, data.url, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _fetch(data.url, partial)
    except Exception as exc:  # noqa: BLE001 -- offline, DNS, HTTP: say how to run offline
        partial.unlink(missing_ok=True)
        raise DeliberateError(f"could not download {data.name} from {data.url} ({exc}); pass a "
                              f"local copy with {data.flag} PATH") from None
    digest = sha256_file(partial)
    if digest != data.sha256:
        partial.unlink(missing_ok=True)
        raise DeliberateError(
            f"downloaded {data.url} has sha256 {digest}, not the pinned {data.sha256}: the "
            f"published {data.name} changed or the download was altered; pass a file with "
            f"{data.flag} to run anyway (recorded as not comparable)")
    os.replace(partial, target)
    return target
