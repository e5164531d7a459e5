"""Build the one environment that every stack session shares (``.venv``).

Steps, each skipped when its inputs are unchanged (stamps in the venv):
  1. the virtual environment itself;
  2. torch 2.13.0 and the stack's run-time packages (requirements/stack.txt);
  3. mmcv's compiled ops (cached by scripts.stack.mmcv_ops) and mmcv linked editable;
  4. the other forks, editable, without their declared dependencies;
  5. this project (``extensions``), editable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

from scripts.settings import REPO_ROOT, current
from scripts.stack.editable_link import link_install
from scripts.stack.mmcv_ops import BuildError, ensure_ops
from scripts.stack.pins import FORKS

REQUIREMENTS = REPO_ROOT / "requirements" / "stack.txt"
STAMPS = "mmlab-stamps.json"
# Files whose change alters what pip installs for a fork.
PACKAGING_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in")


class StackError(RuntimeError):
    """A build step failed; the message names the step and its log."""


def python_of(venv_path: Path) -> Path:
    return venv_path / "bin" / "python"


def _hash_files(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def packaging_inputs(project: Path) -> list[Path]:
    files = [project / name for name in PACKAGING_FILES]
    files += sorted((project / "requirements").glob("*.txt"))
    files += sorted(project.glob("*/version.py"))
    return files


class Stack:
    """The venv plus the stamps that say which steps are current."""

    def __init__(self, root: Path = REPO_ROOT, path: Path | None = None):
        self.root = root
        self.path = path or current().venv
        self.python = python_of(self.path)
        self.log = current().logs / "setup.log"
        self._stamp_file = self.path / STAMPS

    def stamps(self) -> dict[str, str]:
        try:
            return json.loads(self._stamp_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def stamp(self, key: str, value: str) -> None:
        stamps = self.stamps()
        stamps[key] = value
        tmp = self._stamp_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(stamps, indent=2, sort_keys=True))
        tmp.replace(self._stamp_file)

    def pip(self, *args: str, env: dict[str, str] | None = None) -> None:
        cmd = [str(self.python), "-m", "pip", "--disable-pip-version-check", *args]
        with self.log.open("a") as out:
            out.write(f"\n$ {' '.join(cmd)}\n")
            out.flush()
            code = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {}))
            ).returncode
        if code != 0:
            tail = "".join(self.log.read_text(errors="replace").splitlines(keepends=True)[-20:])
            raise StackError(f"pip {args[0]} failed (exit {code}); full log: {self.log}\n{tail}")

    # ------------------------------------------------------------ steps

    def ensure_venv(self) -> str:
        if self.python.exists():
            return f"exists at {self.path}"
        venv.EnvBuilder(with_pip=True).create(self.path)
        self.pip("install", "--upgrade", "pip")
        return f"created {self.path}"

    def ensure_packages(self) -> str:
        key = _hash_files([REQUIREMENTS])
        if self.stamps().get("packages") == key:
            return "up to date"
        self.pip("install", "-r", str(REQUIREMENTS))
        self.stamp("packages", key)
        return f"installed requirements/stack.txt (log: {self.log})"

    def ensure_mmcv(self) -> str:
        fork = self.root / "mmcv"
        try:
            result = ensure_ops(fork, self.python)
        except BuildError as exc:
            raise StackError(str(exc)) from None
        key = _hash_files(packaging_inputs(fork), str(fork))
        if self.stamps().get("fork:mmcv") != key:
            link_install(fork, self.python, {"MMCV_WITH_OPS": "1"}, self.log)
            self.stamp("fork:mmcv", key)
            result += "; linked editable"
        return result

    def ensure_fork(self, name: str) -> str:
        fork = self.root / name
        key = _hash_files(packaging_inputs(fork), str(fork))
        if self.stamps().get(f"fork:{name}") == key:
            return "up to date"
        self.pip(
            "install", "--no-deps", "--no-build-isolation", "--config-settings", "editable_mode=compat", "-e", str(fork)
        )
        self.stamp(f"fork:{name}", key)
        return f"installed editable from {fork}"

    def ensure_project(self) -> str:
        key = _hash_files([self.root / "pyproject.toml"], str(self.root))
        if self.stamps().get("project") == key:
            return "up to date"
        self.pip(
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--config-settings",
            "editable_mode=compat",
            "-e",
            str(self.root),
        )
        self.stamp("project", key)
        return "installed extensions/ editable"

    def build(self) -> None:
        missing = [name for name in FORKS if not (self.root / name / ".git").exists()]
        if missing:
            raise StackError(f"forks not synced: {', '.join(missing)}; run `nox -s sync` first")
        steps = [
            ("environment", self.ensure_venv),
            ("torch + stack packages", self.ensure_packages),
            ("mmcv + compiled ops", self.ensure_mmcv),
            *[(name, lambda n=name: self.ensure_fork(n)) for name in FORKS if name != "mmcv"],
            ("extensions", self.ensure_project),
        ]
        total = time.monotonic()
        for index, (label, step) in enumerate(steps, 1):
            start = time.monotonic()
            print(f"==> [{index}/{len(steps)}] {label} ...", flush=True)
            result = step()
            print(f"    {result} ({time.monotonic() - start:.1f}s)", flush=True)
        print(f"==> stack ready in {time.monotonic() - total:.1f}s: {self.python}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build", description="build the shared stack environment")
    parser.parse_args(argv)
    try:
        Stack().build()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
