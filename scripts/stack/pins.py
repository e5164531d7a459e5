"""Read and validate patches/upstream.toml, the one file that pins every fork."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_write
from mmlab_core.settings import PINS_FILE

_REQUIRED = ("package", "version", "artifact", "sha256")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$")
_PRE = {"a": 0, "b": 1, "rc": 2}


class PinError(MmlabError, ValueError):
    """upstream.toml is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Pin:
    fork: str
    package: str
    version: str
    artifact: str
    sha256: str
    git_url: str = ""
    tag: str = ""
    commit: str = ""
    commit_verified: bool = True

    @property
    def is_wheel(self) -> bool:
        return self.artifact.endswith(".whl")


def load_pins(path: Path = PINS_FILE) -> dict[str, Pin]:
    """Every pinned fork, keyed by its directory name, in file order."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PinError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PinError(f"{path}: not valid TOML: {exc}") from None
    pins = {}
    for fork, table in data.items():
        if not isinstance(table, dict):
            raise PinError(f"{path}: [{fork}] must be a table")
        missing = [key for key in _REQUIRED if not table.get(key)]
        if missing:
            raise PinError(f"{path}: [{fork}] is missing {', '.join(missing)}")
        unknown = set(table) - set(Pin.__dataclass_fields__) - {"fork"}
        if unknown:
            raise PinError(f"{path}: [{fork}] has unknown keys {', '.join(sorted(unknown))}")
        if not _SHA256.match(table["sha256"]):
            raise PinError(f"{path}: [{fork}] sha256 must be 64 lowercase hex digits")
        if not table["artifact"].endswith((".tar.gz", ".whl", ".zip")):
            raise PinError(f"{path}: [{fork}] artifact must be an sdist or a wheel")
        pins[fork] = Pin(fork=fork, **table)
    return pins


def fork_names(path: Path = PINS_FILE) -> tuple[str, ...]:
    """The forks, in upstream.toml's order (the one place they are listed)."""
    return tuple(load_pins(path))


def version_key(version: str) -> tuple:
    """A sort key that orders release versions as PEP 440 does (``1.4 == 1.4.0 < 1.4.1rc1 < 1.4.1``).

    Covers what OpenMMLab publishes: releases, a/b/rc, .post and .dev; no epochs or local labels.
    """
    match = _VERSION.match(version.strip().lower())
    if not match:
        raise PinError(f"{version!r} is not a release version (like 1.4.0 or 2.0.0rc4)")
    release, pre, pre_n, post, dev = match.groups()
    parts = [int(part) for part in release.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    # a pre-release, then 1.0.dev1 < 1.0a1 < 1.0 (a final or post release)
    pre_key = (0, _PRE[pre], int(pre_n)) if pre else (-1,) if dev and not post else (1,)
    post_key = int(post) if post else -1
    dev_key = (0, int(dev)) if dev else (1,)
    return (tuple(parts), pre_key, post_key, dev_key)


def select(pins: dict[str, Pin], names: list[str] | None) -> list[Pin]:
    """The pins named on the command line (all when none), with a clear error."""
    if not names:
        return list(pins.values())
    unknown = [name for name in names if name not in pins]
    if unknown:
        raise PinError(f"unknown fork {', '.join(unknown)}; pinned forks are: {', '.join(pins)}")
    return [pins[name] for name in names]


def write_pin(pins_file: Path, pin: Pin) -> None:
    """Rewrite the ``[fork]`` table of upstream.toml, keeping the rest byte for byte."""
    text = pins_file.read_text(encoding="utf-8")
    match = re.search(rf"^\[{re.escape(pin.fork)}\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if not match:
        raise PinError(f"{pins_file}: no [{pin.fork}] table")
    lines = []
    for line in match.group(1).splitlines(keepends=True):
        key = line.split("=", 1)[0].strip()
        if key in ("commit", "commit_verified"):
            continue  # the new release's commit is not known here
        if key in ("version", "artifact", "sha256", "tag"):
            line = f'{key} = "{getattr(pin, key)}"\n'
        lines.append(line)
    body = "".join(lines)
    atomic_write(pins_file, text[: match.start(1)] + body + text[match.end(1) :])
