"""A wheelhouse of compiled mmcv builds: one team member (or a CI cache) compiles, everyone else installs.

``nox -s build -- --wheelhouse DIR`` writes the fork's mmcv, with its compiled ops, as a wheel named after
the build's cache key (``mmcv-2.1.0+mmlab.<key>-cp311-cp311-linux_x86_64.whl``); the wheel also carries
``mmlab_build.json``, the inputs the key hashes (op sources, torch and its CUDA version, Python, compiler,
flags, CUDA architectures). A machine whose ``MMLAB_WHEELHOUSE`` names that folder, or a URL serving it
(a plain directory listing or a PEP 503 page), takes the compiled library from the matching wheel instead
of compiling; when no wheel matches, it compiles and says in one line what differed from the nearest one.

A wheel's library is checked against its RECORD hash and its recorded inputs before use, URLs must be https
(or http on this machine), and a listing's links are followed only to the same host. Each wheel has a small
``<wheel>.json`` beside it with its inputs, so a miss reads those instead of downloading every wheel.
Standard library only. The wheel is deterministic: sorted entries, fixed timestamps and modes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_path, atomic_write

INPUTS = "mmlab_build.json"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_LINK = re.compile(r'href="([^"#]+\.whl(?:\.json)?)(?:#[^"]*)?"')
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class WheelhouseError(MmlabError):
    """MMLAB_WHEELHOUSE cannot be read, or a wheel in it is damaged; the message names it."""


def wheel_name(version: str, key: str, python_tag: str) -> str:
    return f"mmcv-{version}+mmlab.{key}-{python_tag}-{python_tag}-linux_x86_64.whl"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def package_files(fork: Path) -> list[Path]:
    """What the wheel holds: the fork's ``mmcv`` package, compiled library included, without build leftovers."""
    skip = re.compile(r"(__pycache__|\.pyc$|/ops/csrc/)")
    return sorted(p for p in (fork / "mmcv").rglob("*") if p.is_file() and not skip.search(p.as_posix()))


def write_wheel(fork: Path, version: str, key: str, python_tag: str, inputs: dict, out_dir: Path) -> Path:
    """The fork's mmcv with its compiled ops as ``out_dir/<wheel_name>``, written whole or not at all."""
    name = wheel_name(version, key, python_tag)
    dist_info = f"mmcv-{version}+mmlab.{key}.dist-info"
    entries: list[tuple[str, bytes, int]] = []
    for path in package_files(fork):
        mode = 0o755 if path.suffix == ".so" else 0o644
        entries.append((path.relative_to(fork).as_posix(), path.read_bytes(), mode))
    metadata = f"Metadata-Version: 2.1\nName: mmcv\nVersion: {version}+mmlab.{key}\n"
    tag = f"{python_tag}-{python_tag}-linux_x86_64"
    wheel = f"Wheel-Version: 1.0\nGenerator: mmlab-extension\nRoot-Is-Purelib: false\nTag: {tag}\n"
    entries += [
        (f"{dist_info}/METADATA", metadata.encode(), 0o644),
        (f"{dist_info}/WHEEL", wheel.encode(), 0o644),
        (f"{dist_info}/{INPUTS}", (json.dumps(inputs, indent=2, sort_keys=True) + "\n").encode(), 0o644),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data, _ in entries)
    entries.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode(), 0o644))
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / name) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in entries:
            info = zipfile.ZipInfo(path, _EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    # the inputs again beside the wheel, so that a miss can say what differed without downloading every wheel
    atomic_write(out_dir / f"{name}.json", json.dumps(inputs, indent=2, sort_keys=True) + "\n")
    return out_dir / name


def _check_url(url: str, source: str) -> None:
    """https anywhere; plain http only to this machine (a wheel's library runs in every stack process)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise WheelhouseError(
        f"MMLAB_WHEELHOUSE={source} leads to {url}: only https URLs (or http on this machine) are read, since the "
        "compiled library in a wheel runs in every stack process. Serve the wheelhouse over https, or use a folder."
    )


def _listing(source: str) -> dict[str, str]:
    """Wheel (and ``.json`` summary) file name -> where to read it, for a folder or a URL of the same origin."""
    if "://" not in source:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise WheelhouseError(f"MMLAB_WHEELHOUSE={source} is not a folder; point it at a folder or a URL.")
        return {p.name: str(p) for p in folder.glob("mmcv-*.whl*")}
    base = source.rstrip("/") + "/"
    _check_url(base, source)
    page = _read(base, source).decode(errors="replace")
    links = {}
    for link in _LINK.findall(page):
        url = urljoin(base, link)
        if urlsplit(url)[:2] == urlsplit(base)[:2]:  # the same scheme and host as the wheelhouse itself
            links[unquote(urlsplit(url).path.rsplit("/", 1)[-1])] = url  # "+" is %2B in a directory listing
    return {name: url for name, url in links.items() if name.startswith("mmcv-")}


def _read(location: str, source: str) -> bytes:
    try:
        if "://" not in location:
            return Path(location).read_bytes()
        with urllib.request.urlopen(location, timeout=300) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise WheelhouseError(
            f"MMLAB_WHEELHOUSE={source}: {location} cannot be read ({exc}); check it, or unset MMLAB_WHEELHOUSE "
            "to compile here."
        ) from None


def _inputs_of(data: bytes, where: str) -> tuple[zipfile.ZipFile, dict]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        inputs_name = next(n for n in archive.namelist() if n.endswith(f".dist-info/{INPUTS}"))
        return archive, json.loads(archive.read(inputs_name))
    except (zipfile.BadZipFile, StopIteration, ValueError) as exc:
        raise WheelhouseError(
            f"{where} is not a wheel this project wrote ({exc or 'no ' + INPUTS}); remove it from the wheelhouse."
        ) from None


def _verified_member(archive: zipfile.ZipFile, member: str, where: str) -> bytes:
    """``member``'s bytes, checked against the wheel's RECORD (a damaged or altered library is refused)."""
    record = next((n for n in archive.namelist() if n.endswith(".dist-info/RECORD")), None)
    rows = dict(line.split(",", 1) for line in archive.read(record).decode().splitlines()) if record else {}
    try:
        data = archive.read(member)
    except KeyError:
        raise WheelhouseError(f"{where} holds no {member}; remove it from the wheelhouse.") from None
    if rows.get(member, "").split(",")[0] != _record_hash(data):
        raise WheelhouseError(
            f"{where}: {member} does not match the hash its RECORD lists, so it was altered or damaged and is not "
            "used. Remove the wheel from the wheelhouse and write it again with `nox -s build -- --wheelhouse DIR`."
        )
    return data


def take_library(source: str, name: str, lib_name: str, dest: Path, inputs: dict | None = None) -> bool:
    """Copy ``mmcv/<lib_name>`` out of the wheelhouse's ``name`` into ``dest``, checked against the wheel's RECORD
    and (given ``inputs``) its recorded build inputs; False when the wheelhouse has no such wheel."""
    location = _listing(source).get(name)
    if location is None:
        return False
    archive, theirs = _inputs_of(_read(location, source), location)
    if inputs is not None and theirs != inputs:
        differs = sorted(k for k in set(inputs) | set(theirs) if inputs.get(k) != theirs.get(k))
        raise WheelhouseError(
            f"{location} is named for this build but records other inputs ({', '.join(differs)}); it is not used. "
            "Remove it from the wheelhouse."
        )
    data = _verified_member(archive, f"mmcv/{lib_name}", location)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return True


def _summary(listing: dict[str, str], name: str, source: str) -> dict:
    """A wheel's recorded inputs: from its small ``.json`` summary when there is one, else from the wheel."""
    if f"{name}.json" in listing:
        try:
            return json.loads(_read(listing[f"{name}.json"], source))
        except ValueError:
            pass
    return _inputs_of(_read(listing[name], source), listing[name])[1]


def difference(source: str, version: str, inputs: dict) -> str:
    """One line: what differs between ``inputs`` and the nearest wheel of the same mmcv version."""
    listing = _listing(source)
    candidates = [n for n in listing if n.startswith(f"mmcv-{version}+mmlab.") and n.endswith(".whl")]
    if not candidates:
        return f"the wheelhouse {source} has no mmcv {version} build"
    best: tuple[int, str, list[str]] | None = None
    for name in sorted(candidates):
        theirs = _summary(listing, name, source)
        differs = sorted(k for k in set(inputs) | set(theirs) if inputs.get(k) != theirs.get(k))
        if best is None or len(differs) < best[0]:
            best = (len(differs), name, [f"{k} {theirs.get(k)!r} there, {inputs.get(k)!r} here" for k in differs])
    assert best is not None
    return f"nearest wheel {best[1]} differs in " + "; ".join(best[2])
