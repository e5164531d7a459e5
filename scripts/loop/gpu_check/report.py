"""report.json and report.md of a GPU check: every figure, a pass/fail/skip per check, and the reason for
each failure or skip. Only what a stage returned is written; nothing is filled in."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mmlab_core.files import atomic_write
from scripts.loop.gpu_check.stages import PASS, StageResult


@dataclass(frozen=True)
class Machine:
    """Where the check ran."""

    device: str
    device_name: str
    torch: str
    cuda: str | None
    python: str
    compare: str


def _clean(value: Any) -> Any:
    """JSON-safe: infinities and NaN become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def verdict(results: list[StageResult]) -> str:
    """pass when every stage passed; else fail (a skipped stage is not a pass)."""
    return PASS if results and all(r.status == PASS for r in results) else "fail"


def as_json(machine: Machine, results: list[StageResult], seconds: float, note: str = "") -> dict:
    return _clean(
        {
            "verdict": verdict(results),
            "machine": asdict(machine),
            "seconds": round(seconds, 1),
            "setup": note,
            "stages": [asdict(r) for r in results],
        }
    )


def _cases_table(cases: list[dict]) -> list[str]:
    lines = [
        "",
        "| case | op | result | forward max abs diff | backward max abs diff | tolerance | reason |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in cases:
        back = (
            "-"
            if c.get("backward_max_abs_diff") is None
            else f"{c['backward_max_abs_diff']:.3g}"
            if isinstance(c["backward_max_abs_diff"], float)
            else str(c["backward_max_abs_diff"])
        )
        fwd = c["forward_max_abs_diff"]
        fwd = f"{fwd:.3g}" if isinstance(fwd, float) else str(fwd)
        tol = c["tolerance"] + (f"; grad {c['grad_tolerance']}" if c.get("grad_tolerance") else "")
        lines.append(
            f"| {c['name']} | {c['op']} | {'pass' if c['passed'] else 'FAIL'} | {fwd} | {back} | {tol} | "
            f"{c.get('reason', '')} |"
        )
    return lines


def as_markdown(data: dict) -> str:
    m = data["machine"]
    lines = [
        f"# GPU check: {data['verdict'].upper()}",
        "",
        f"Device {m['device']} ({m['device_name']}), torch {m['torch']}, CUDA {m['cuda']}, Python {m['python']}; "
        f"compared {m['compare']}; {data['seconds']} s in all." + (f" {data['setup']}." if data.get("setup") else ""),
        "",
        "| stage | result | seconds | budget (s) | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in data["stages"]:
        lines.append(f"| {s['title']} | {s['status']} | {s['seconds']} | {s['budget_s']:.0f} | {s['reason']} |")
    for s in data["stages"]:
        figures = dict(s["figures"])
        if not figures:
            continue
        lines += ["", f"## {s['title']}"]
        cases = figures.pop("cases", None)
        for key, value in figures.items():
            lines.append(f"- {key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
        if cases:
            lines += _cases_table(cases)
    return "\n".join(lines) + "\n"


def _finite(value):
    """JSON has no infinity or NaN: a difference that is not a number (shapes differ) is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write(out: Path, machine: Machine, results: list[StageResult], seconds: float, note: str = "") -> dict:
    """Write report.json and report.md into ``out``; returns report.json's content."""
    data = _finite(as_json(machine, results, seconds, note))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "report.json", json.dumps(data, indent=2, allow_nan=False) + "\n")
    atomic_write(out / "report.md", as_markdown(data))
    return data
