"""Fetch pinned PyPI artifacts into the cache and verify their sha256."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_path, sha256_of
from mmlab_core.settings import current
from scripts.stack.pins import Pin, version_key


class ArtifactError(MmlabError):
    """An artifact could not be fetched or does not match its pin."""


def artifact_path(pin: Pin) -> Path:
    return current().cache / "artifacts" / pin.artifact


def fetch(pin: Pin) -> Path:
    """Return the verified artifact for ``pin``, downloading it once."""
    path = artifact_path(pin)
    if path.exists():
        _verify(path, pin, f"cached file {path}")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    url = find_url(pin.package, pin.artifact)
    print(f"[{pin.fork}] downloading {pin.artifact} -> {path}", flush=True)
    with atomic_path(path) as tmp:  # the usual permissions (umask): a cache is for every reader
        with tmp.open("wb") as out:
            _download(url, out)
        _verify(tmp, pin, f"download from {url}")
    return path


def _verify(path: Path, pin: Pin, what: str) -> None:
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise ArtifactError(
            f"sha256 mismatch for artifact {pin.artifact} ({what}):\n"
            f"  expected {pin.sha256} (patches/upstream.toml [{pin.fork}])\n"
            f"  actual   {actual}\n"
            "Nothing was imported. If the cached file is damaged, delete it and run again; "
            "if the pin is wrong, correct it in patches/upstream.toml."
        )


def index_url() -> str:
    return current().index_url


def project_files(package: str, timeout: float = 60) -> list[dict]:
    """The files the package index lists for ``package`` (PEP 691 JSON)."""
    name = re.sub(r"[-_.]+", "-", package).lower()
    request = urllib.request.Request(
        f"{index_url()}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"cannot list {package} on {index_url()}: {exc}") from None


def find_url(package: str, filename: str) -> str:
    for entry in project_files(package):
        if entry.get("filename") == filename:
            return entry["url"]
    raise ArtifactError(f"{filename} is not listed for {package} on {index_url()}")


def _download(url: str, out) -> None:
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            while block := response.read(1 << 20):
                out.write(block)
    except OSError as exc:
        raise ArtifactError(f"download of {url} failed: {exc}") from None


def newest_release(package: str, timeout: float = 5) -> str:
    """The highest final (non-pre-release) version on the index."""
    prefix = re.sub(r"[-_.]+", "_", package).lower() + "-"
    versions = set()
    for entry in project_files(package, timeout=timeout):
        name = re.sub(r"[-_.]+", "_", entry.get("filename", "").split("-")[0]).lower() + "-"
        if name != prefix or entry.get("yanked"):
            continue
        version = entry["filename"].split("-")[1].removesuffix(".tar.gz").removesuffix(".zip")
        if re.fullmatch(r"\d+(\.\d+)*", version):
            versions.add(version)
    if not versions:
        raise ArtifactError(f"no releases of {package} on {index_url()}")
    return max(versions, key=version_key)
