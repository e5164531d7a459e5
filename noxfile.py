"""The only entry point users type. Sessions are wiring; the logic lives in
scripts/ (tested without nox)."""

from __future__ import annotations

import sys
from pathlib import Path

import nox

if sys.version_info < (3, 11):  # noqa: UP036 (nox may run on an older Python)
    sys.exit(f"mmlab-extension needs Python >= 3.11 to run nox, not {sys.version.split()[0]}")
sys.path.insert(0, str(Path(__file__).parent))
from mmlab_core.settings import current

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "unit"]
nox.options.reuse_venv = "yes"
nox.needs_version = ">=2024.3.2"

HOST_PYTHON = sys.executable
# The host lane: tests/stack (stack tooling, patch queue) and tests/test_*.py (settings, files, CLI errors), with
# the host's Python and pytest only. The stack lane's folders (tests/conftest.py: STACK_LANE) are not collected
# where torch does not import, as in this session's venv; `nox -s test` runs both lanes in .venv.
UNIT_TESTS = ("tests",)
UNIT_MARKERS = "not slow and not network"


def _stack_python() -> str:
    return str(current().venv / "bin" / "python")


def _ensure_stack(session: nox.Session, *build_args: str) -> None:
    """sync + build (the variant the environment has, unless build_args choose); seconds when nothing changed."""
    session.run(HOST_PYTHON, "-m", "scripts.stack.patch_queue", "sync", external=True)
    session.run(HOST_PYTHON, "-m", "scripts.stack.build", *build_args, external=True)


def _run_in_stack(session: nox.Session, module: str) -> None:
    """setup, then ``python -m module -- posargs`` in the stack environment."""
    _ensure_stack(session)
    session.run(_stack_python(), "-m", module, *session.posargs, external=True)


@nox.session
def setup(session: nox.Session) -> None:
    """Fresh clone -> patched, built, importable stack (.venv): -- [--cuda | --cpu] [--no-ops]."""
    _ensure_stack(session, *session.posargs)


@nox.session
def sync(session: nox.Session) -> None:
    """Import the pinned releases and apply the patch series (-- --force [fork...])."""
    session.run(HOST_PYTHON, "-m", "scripts.stack.patch_queue", "sync", *session.posargs, external=True)


@nox.session
def build(session: nox.Session) -> None:
    """Build the shared environment from the synced forks: -- [--cuda | --cpu] [--no-ops]."""
    session.run(HOST_PYTHON, "-m", "scripts.stack.build", *session.posargs, external=True)


@nox.session
def lock(session: nox.Session) -> None:
    """Pin every stack package with hashes, per torch variant: requirements/stack{,-cu130}.lock (-- --check)."""
    session.run(HOST_PYTHON, "-m", "scripts.stack.lock", *session.posargs, external=True)


@nox.session
def smoke(session: nox.Session) -> None:
    """Set up the stack, import it, and run mmcv's compiled nms and Voxelization."""
    _ensure_stack(session)
    session.run(_stack_python(), "-m", "scripts.loop.smoke", external=True)


@nox.session
def test(session: nox.Session) -> None:
    """Set up the stack and run every test in it (-- pytest args, e.g. -m "not slow")."""
    _run_in_stack(session, "pytest")


@nox.session(venv_backend="venv")
def unit(session: nox.Session) -> None:
    """The host-side tests in seconds, without the stack (-- pytest args)."""
    session.install("pytest==9.2.0", "packaging")
    session.run("python", "-m", "pytest", *UNIT_TESTS, "-m", UNIT_MARKERS, "-p", "no:cacheprovider", *session.posargs)


@nox.session
def patches(session: nox.Session) -> None:
    """Patch queue: -- export | check | lint | status [fork...]."""
    if not session.posargs:
        session.error("usage: nox -s patches -- <export|check|lint|status> [fork...]")
    session.run(HOST_PYTHON, "-m", "scripts.stack.patch_queue", *session.posargs, external=True)


@nox.session(venv_backend="venv")
def lint(session: nox.Session) -> None:
    """ruff, ruff-format, whitespace fixers and the patch lint, through pre-commit."""
    session.install("pre-commit==4.7.0")
    session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure", *session.posargs)


@nox.session
def rebase(session: nox.Session) -> None:
    """Move a fork to a new upstream release: -- <fork> <version> | <fork> --continue | <fork> --abort."""
    if not session.posargs:
        session.error("usage: nox -s rebase -- <fork> <version> | <fork> --continue | <fork> --abort")
    session.run(HOST_PYTHON, "-m", "scripts.stack.rebase", *session.posargs, external=True)


@nox.session
def train(session: nox.Session) -> None:
    """Train: -- configs/X.py [--resume] [--work-dir D] [--cfg-options k=v ...]."""
    _run_in_stack(session, "scripts.loop.train")


@nox.session
def link(session: nox.Session) -> None:
    """Link mmdetection{,3d}/{checkpoints,data} to MMLAB_CHECKPOINTS_PATH / MMLAB_DATASET_PATH."""
    session.run(HOST_PYTHON, "-m", "scripts.stack.workspace", external=True)


@nox.session
def deploy(session: nox.Session) -> None:
    """Export, verify and time: -- configs/deploy/D.py configs/X.py CHECKPOINT [--samples N] [--int8]."""
    _run_in_stack(session, "scripts.loop.deploy")


@nox.session(name="eval")
def evaluate(session: nox.Session) -> None:
    """Evaluate: -- configs/X.py CHECKPOINT [--frames N]: metrics table, JSON, BEV pictures."""
    _run_in_stack(session, "scripts.loop.evaluate")


@nox.session
def data(session: nox.Session) -> None:
    """Real dataset formats -> infos: -- kitti|nuscenes|lyft|waymo|custom|bag|kitti-to-custom SRC [OUT]."""
    _run_in_stack(session, "scripts.data.cli")


@nox.session
def infer(session: nox.Session) -> None:
    """Detections over a bag or frames: -- MODEL INPUT [--out DIR] [--topic T] [--score-thr S] [--runtime R]."""
    _run_in_stack(session, "scripts.loop.infer")


@nox.session
def autolabel(session: nox.Session) -> None:
    """Pre-labels for annotators: -- MODEL FRAMES OUT [--score-thr S] [--format custom|scalabel|cvat]."""
    _run_in_stack(session, "scripts.loop.autolabel")


@nox.session
def demo(session: nox.Session) -> None:
    """The closed loop on generated data: generate, train, eval, deploy, verify (-- --epochs N ...)."""
    _run_in_stack(session, "scripts.loop.demo")


@nox.session
def zoo(session: nox.Session) -> None:
    """Which upstream model families build, train, predict and export here: -- [--only NAME ...] [--timeout S]."""
    _run_in_stack(session, "scripts.loop.zoo")


@nox.session(name="gpu-check")
def gpu_check(session: nox.Session) -> None:
    """On a CUDA machine: every mmcv op and spconv against the CPU, train/eval/deploy on the GPU, one report
    (-- --device cpu: the same checks CPU against CPU; -- --bundle DIR: what a GPU machine without network needs)."""
    _run_in_stack(session, "scripts.loop.gpu_check")
