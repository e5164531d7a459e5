"""Run families, each in its own process with a time limit, and measure wall time and peak memory.

A family that hangs is killed at its limit, and one that aborts (a compiled op can kill the interpreter)
keeps the stages it finished; either way the matrix goes on with the next family.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mmlab_core.settings import REPO_ROOT
from scripts.loop.zoo.family import Family
from scripts.loop.zoo.probe import STAGES
from scripts.loop.zoo.reasons import died


def run_family(family: Family, timeout: float, log_dir: Path, with_export: bool = True) -> dict:
    """Probe one family in a subprocess; the result with ``wall_s``, ``peak_rss_mb`` and ``log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in family.name.lower())
    result_path, log_path = log_dir / f"{slug}.json", log_dir / f"{slug}.log"
    result_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "scripts.loop.zoo.probe", family.name, str(result_path)]
    command += [] if with_export else ["--no-export"]
    start = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        status, usage, timed_out = _wait(child, timeout)
    wall = time.perf_counter() - start
    result = _read(result_path, family)
    code = os.waitstatus_to_exitcode(status)
    late = f"did not finish within the {timeout:.0f} s limit"
    for name, entry in result["stages"].items():
        if entry.get("running"):
            result["stages"][name] = dict(ok=False, reason=late if timed_out else died(code, name, _tail(log_path)))
    if not result["stages"] and (timed_out or code != 0):
        why = late if timed_out else died(code, "startup", _tail(log_path))
        result["stages"]["config"] = dict(ok=False, reason=why)
    result.update(wall_s=round(wall, 1), peak_rss_mb=round(usage.ru_maxrss / 1024), log=str(log_path))
    return result


def _wait(child: subprocess.Popen, timeout: float):
    """(wait status, resource usage of that child alone, timed out?); the child's process group is killed
    at the limit."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, False
        if time.monotonic() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, True
        time.sleep(0.5)


def _read(path: Path, family: Family) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return dict(name=family.name, scope=family.scope, config=family.config, kind=family.kind, stages={})


def _tail(path: Path, size: int = 4000) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read().decode(errors="replace")


def progress_line(result: dict) -> str:
    """One line per finished family: each stage's mark, wall time, peak memory, and the first reason."""
    marks = " ".join(f"{stage}:{mark(result['stages'].get(stage))}" for stage in STAGES)
    reasons = [entry["reason"] for entry in result["stages"].values() if entry.get("ok") is False]
    tail = f"  ({reasons[0]})" if reasons else ""
    return f"{result['name']:<22} {marks}  {result['wall_s']:>6.1f} s {result['peak_rss_mb']:>6} MB{tail}"


def mark(entry: dict | None) -> str:
    """✅ passed, ❌ failed, — not run (not supported, or an earlier stage failed)."""
    if entry is None:
        return "—"
    return "✅" if entry.get("ok") else "❌"


def run_all(families: list[Family], timeout: float, log_dir: Path, on_result=None) -> list[dict]:
    """Every family in turn; ``on_result(result)`` after each (progress, writing the outputs)."""
    results = []
    for family in families:
        result = run_family(family, timeout, log_dir)
        results.append(result)
        if on_result:
            on_result(result)
    return results
