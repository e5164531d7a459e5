"""Build the one environment that every stack session shares (``.venv``).

Steps, each skipped when its inputs are unchanged (stamps in the venv):
  1. the virtual environment itself;
  2. every package pinned in the chosen variant's lock (scripts/stack/variant.py: requirements/stack.lock
     for cpu, stack-cu130.lock for cu130), hash-checked: ``uv pip sync``, or pip ``--require-hashes``
     where uv is missing; switching variant re-syncs;
  3. mmcv's compiled ops (cached by scripts.stack.mmcv_ops; with CUDA, in scripts.stack.cuda's
     environment) and mmcv linked editable;
  4. the other forks and this project (``extensions``), editable, without their declared dependencies.
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

from mmlab_core.cli import run
from mmlab_core.errors import MmlabError
from mmlab_core.files import atomic_write
from mmlab_core.settings import REPO_ROOT, current, environment
from scripts.stack.cuda import build_env
from scripts.stack.editable_link import link_install, site_packages
from scripts.stack.lock import HOST_REQUIREMENTS, source_args, uv_binary
from scripts.stack.mmcv_ops import BuildError, ensure_ops
from scripts.stack.pins import fork_names
from scripts.stack.variant import STAMPS, VARIANTS, Variant, choose, recorded

# Files whose change alters what pip installs for a fork.
PACKAGING_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "requirements.txt")


class StackError(MmlabError):
    """The stack cannot be built as things are; the message says what to do first (exit 2)."""


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

    def __init__(
        self,
        root: Path = REPO_ROOT,
        path: Path | None = None,
        variant: Variant | None = None,
        ops: bool = True,
        wheelhouse: Path | None = None,
    ):
        self.root = root
        self.wheelhouse = wheelhouse  # also write the compiled mmcv there as a wheel (--wheelhouse)
        self.path = path or current().venv
        self.variant = variant or VARIANTS[recorded(self.path) or "cpu"]
        self.ops = ops  # False: leave mmcv's compiled ops as they are (--no-ops)
        self.python = python_of(self.path)
        self.log = current().logs / "setup.log"
        self._stamp_file = self.path / STAMPS
        self.uv = uv_binary()

    def stamps(self) -> dict[str, str]:
        try:
            return json.loads(self._stamp_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def stamp(self, key: str, value: str, forget_others: bool = False) -> None:
        """Record that a step is current; ``forget_others`` also marks every other step as to be redone."""
        stamps = {} if forget_others else self.stamps()
        stamps[key] = value
        atomic_write(self._stamp_file, json.dumps(stamps, indent=2, sort_keys=True))

    def pip(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.run_logged("pip " + args[0], [str(self.python), "-m", "pip", "--disable-pip-version-check", *args], env)

    def run_logged(self, what: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        """Run an installer with its output in the setup log; on failure the error shows the log's tail."""
        with self.log.open("a") as out:
            out.write(f"\n$ {' '.join(cmd)}\n")
            out.flush()
            code = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {}))
            ).returncode
        if code != 0:
            tail = "".join(self.log.read_text(errors="replace").splitlines(keepends=True)[-20:])
            raise BuildError(f"{what} failed (exit {code}); full log: {self.log}\n{tail}")

    # ------------------------------------------------------------ steps

    def ensure_venv(self) -> str:
        if self.python.exists():
            return f"exists at {self.path}"
        if self.uv:  # pip itself comes from the lock
            self.run_logged("uv venv", [self.uv, "venv", "--no-config", "--python", sys.executable, str(self.path)])
        else:
            venv.EnvBuilder(with_pip=True).create(self.path)
        return f"created {self.path}"

    def ensure_packages(self) -> str:
        lock = self.variant.lock
        key = _hash_files([lock], self.variant.name)  # another variant's lock: a re-sync
        if self.stamps().get("packages") == key:
            return f"up to date ({self.variant.name})"
        settings = current()
        if self.uv:  # sync: also removes what the lock no longer lists
            sync = [self.uv, "pip", "sync", "--python", str(self.python), "--require-hashes"]
            self.run_logged("uv pip sync", [*sync, *source_args(settings, self.variant), str(lock)])
            how = "uv pip sync"
        else:
            print(f"    no uv here, so pip installs instead (slower); to add uv: pip install -r {HOST_REQUIREMENTS}")
            sources = source_args(settings, self.variant)[1:]  # less uv's --no-config
            self.pip("install", "--require-hashes", *sources, "-r", str(lock))
            how = "pip --require-hashes"
        # The forks and extensions/ are not in the lock (sync removed them): redo those steps.
        self.stamp("packages", key, forget_others=True)
        self.stamp("variant", self.variant.name)
        return f"installed {lock.relative_to(REPO_ROOT)} ({how}, hash-checked; log: {self.log})"

    def mmcv_env(self) -> dict[str, str]:
        """What mmcv's build adds to the environment: nothing for the CPU build, the CUDA toolchain's for CUDA."""
        if not self.variant.cuda:
            return {}
        release = self.variant.cuda or "13.0"
        return build_env(site_packages(self.python), current(), self.path / "mmlab-cuda-lib", release=release)

    def ensure_mmcv(self) -> str:
        fork = self.root / "mmcv"
        with environment(self.mmcv_env()):  # the ops cache key reads CUDA_HOME, FORCE_CUDA, TORCH_CUDA_ARCH_LIST
            if self.ops:
                result = ensure_ops(fork, self.python, self.wheelhouse)
            else:
                result = "compiled ops left as they are (--no-ops)"
            key = _hash_files(packaging_inputs(fork), str(fork))
            if self.stamps().get("fork:mmcv") != key:
                link_install(fork, self.python, {"MMCV_WITH_OPS": "1"}, self.log)
                self.stamp("fork:mmcv", key)
                result += "; linked editable"
        return result

    def editables(self) -> dict[str, tuple[Path, str]]:
        """Stamp name -> (project, key) for the forks other than mmcv, and this project (``extensions``)."""
        skip = ("mmcv", *self.variant.skip_forks)  # mmcv: ensure_mmcv; spconv: the CUDA lock has spconv-cu126
        projects = {f"fork:{name}": self.root / name for name in fork_names() if name not in skip}
        keys = {stamp: _hash_files(packaging_inputs(path), str(path)) for stamp, path in projects.items()}
        projects["project"] = self.root
        keys["project"] = _hash_files([self.root / "pyproject.toml"], str(self.root))
        return {stamp: (projects[stamp], keys[stamp]) for stamp in projects}

    def ensure_editables(self) -> str:
        """The forks and ``extensions``, editable and without their declared dependencies, in one pip call.
        Each setup.py imports torch, which is most of the time; pip does this step because it was the faster
        of pip and uv for it (docs/benchmarks.md has the figures)."""
        stamps = self.stamps()
        stale = {stamp: entry for stamp, entry in self.editables().items() if stamps.get(stamp) != entry[1]}
        if not stale:
            return "up to date"
        args = ["--no-deps", "--no-build-isolation", "--config-settings", "editable_mode=compat"]
        self.pip("install", *args, *[arg for path, _ in stale.values() for arg in ("-e", str(path))])
        for stamp, (_, key) in stale.items():
            self.stamp(stamp, key)
        names = [path.name if stamp != "project" else "extensions" for stamp, (path, _) in stale.items()]
        return f"installed editable: {', '.join(names)}"

    def build(self) -> None:
        missing = [name for name in fork_names() if not (self.root / name / ".git").exists()]
        if missing:
            raise StackError(
                f"the fork(s) {', '.join(missing)} are not synced in {self.root}, so there is nothing to build yet, "
                "and nothing was changed. Run `nox -s setup`, which syncs the forks and then builds; "
                "`nox -s build` alone expects synced forks."
            )
        steps = [
            ("environment", self.ensure_venv),
            (f"torch + stack packages ({self.variant.name})", self.ensure_packages),
            ("mmcv + compiled ops", self.ensure_mmcv),
            ("other forks + extensions, editable", self.ensure_editables),
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
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cuda", dest="variant", action="store_const", const="cu130", help="the CUDA 13.0 stack")
    which.add_argument("--cpu", dest="variant", action="store_const", const="cpu", help="the CPU stack")
    parser.add_argument(
        "--no-ops", action="store_true", help="do not compile mmcv's ops (a toolchain check; mmcv.ops will not work)"
    )
    parser.add_argument(
        "--wheelhouse", type=Path, metavar="DIR", help="also write the compiled mmcv there as a wheel named by its key"
    )
    args = parser.parse_args(argv)
    if args.no_ops and args.wheelhouse:
        parser.error("--wheelhouse writes the compiled ops, and --no-ops leaves them out: use one of the two")
    venv = current().venv
    variant, note = choose(args.variant, current(), recorded(venv))
    if note:
        print(f"==> {note}", flush=True)
    Stack(path=venv, variant=variant, ops=not args.no_ops, wheelhouse=args.wheelhouse).build()
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
