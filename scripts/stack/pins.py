"""Read and validate patches/upstream.toml, the one file that pins every fork."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from scripts.settings import PINS_FILE

FORKS = ("mmengine", "mmcv", "mmdetection", "mmdetection3d", "mmdeploy")
_REQUIRED = ("package", "version", "artifact", "sha256")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PinError(ValueError):
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


def select(pins: dict[str, Pin], names: list[str] | None) -> list[Pin]:
    """The pins named on the command line (all when none), with a clear error."""
    if not names:
        return list(pins.values())
    unknown = [name for name in names if name not in pins]
    if unknown:
        raise PinError(f"unknown fork {', '.join(unknown)}; pinned forks are: {', '.join(pins)}")
    return [pins[name] for name in names]
