"""The two test lanes, and the settings every test reads anew.

The host lane (tests/stack and the tests/test_*.py beside this file) needs the host's Python with pytest only:
``nox -s unit``. The stack lane (the folders in ``STACK_LANE``) needs the built stack in ``.venv``: ``nox -s test``
runs both. Every test in a stack-lane folder is marked ``stack`` (``-m "not stack"`` selects the host lane), and
where torch or mmdet3d does not import those folders are not collected at all.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

from mmlab_core import settings

TESTS = Path(__file__).parent
STACK_LANE = ("loop", "data", "extensions", "patches", "env")
_STACK_DIRS = tuple(TESTS / name for name in STACK_LANE)
_NOT_HERE = [name for name in ("torch", "mmdet3d") if importlib.util.find_spec(name) is None]


def _in_stack_lane(path: Path) -> bool:
    return any(path.is_relative_to(folder) for folder in _STACK_DIRS)


def _left_out() -> str:
    folders = ", ".join(f"tests/{name}" for name in STACK_LANE)
    missing = " and ".join(_NOT_HERE)
    return (
        f"lanes: host only; the stack lane ({folders}) needs .venv ({missing} not importable here): run `nox -s test`"
    )


def pytest_configure(config) -> None:
    """Runs that tests start are tracked in a throwaway MLflow store, not the user's workspace."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MMLAB_TRACKING_PATH"] = tempfile.mkdtemp(prefix="mmlab-test-mlflow-")


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """Without the stack, the stack-lane folders are not collected (rather than skipped file by file)."""
    return True if _NOT_HERE and _in_stack_lane(collection_path) else None


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items) -> None:
    """Mark the stack lane's tests; without the stack, those named on the command line are skipped, not run."""
    for item in items:
        if _in_stack_lane(item.path):
            item.add_marker(pytest.mark.stack)
            if _NOT_HERE:
                item.add_marker(pytest.mark.skip(reason=_left_out()))


def pytest_report_header(config) -> str | None:
    return _left_out() if _NOT_HERE else None


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Where the time went, by folder and by file; and with -q (no header) which lanes were left out."""
    seconds: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if isinstance(report, pytest.TestReport):
                file = report.nodeid.split("::")[0]
                seconds[file] = seconds.get(file, 0.0) + report.duration
    if seconds:
        folders: dict[str, float] = {}
        for file, spent in seconds.items():
            folders[file.rsplit("/", 1)[0]] = folders.get(file.rsplit("/", 1)[0], 0.0) + spent
        terminalreporter.section("where the time went")
        total = sum(seconds.values())
        terminalreporter.write_line(
            f"{total:.0f} s in tests; by folder: "
            + ", ".join(f"{name} {spent:.0f} s" for name, spent in sorted(folders.items(), key=lambda kv: -kv[1]))
        )
        for file, spent in sorted(seconds.items(), key=lambda kv: -kv[1])[:10]:
            terminalreporter.write_line(f"  {spent:7.1f} s  {file}")
    if _NOT_HERE and config.get_verbosity() < 0:
        terminalreporter.write_line(_left_out())


@pytest.fixture(autouse=True)
def fresh_settings():
    """Each test reads the environment anew, so that ``monkeypatch.setenv`` takes effect."""
    settings.current.cache_clear()
    yield
    settings.current.cache_clear()
