"""The stage runner: each stage is time-boxed and independent of the others.

A stage is a function returning its figures and its verdict (``Outcome``). The runner gives it a budget:
a wall-clock alarm (SIGALRM, main thread only) stops it when the budget is spent, and a ``Deadline``
lets a stage made of many small steps skip the steps it has no time for. An exception or a spent budget
fails that stage only; a stage that cannot start before the whole check's budget is spent is skipped,
with the reason written down.
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, SKIP = "pass", "fail", "skip"


class StageTimeout(Exception):
    """The stage's budget was spent before it finished."""


@dataclass(frozen=True)
class Deadline:
    """When a stage's budget ends (``time.monotonic()`` seconds)."""

    end: float

    def left(self) -> float:
        return self.end - time.monotonic()

    def spent(self) -> bool:
        return self.left() <= 0


@dataclass
class Outcome:
    """What a stage returns: its verdict, the figures it measured, and why (for a failure or a skip)."""

    status: str
    figures: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Stage:
    """A named check with its budget in seconds; ``run`` gets the stage's ``Deadline``."""

    name: str
    budget_s: float
    run: Callable[[Deadline], Outcome]
    title: str = ""


@dataclass(frozen=True)
class StageResult:
    """A finished (or skipped) stage as the report shows it."""

    name: str
    title: str
    status: str
    seconds: float
    budget_s: float
    figures: dict[str, Any]
    reason: str


@contextmanager
def time_box(seconds: float) -> Iterator[None]:
    """Raise ``StageTimeout`` in the block after ``seconds`` (an alarm in the main thread; elsewhere no alarm,
    and the stage's ``Deadline`` is all that bounds it)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def _expire(signum, frame):
        raise StageTimeout

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_stage(stage: Stage, budget_s: float) -> StageResult:
    """Run one stage within ``budget_s``; an exception or the alarm becomes a failed result, never a raise."""
    started = time.monotonic()
    deadline = Deadline(started + budget_s)
    try:
        with time_box(budget_s):
            outcome = stage.run(deadline)
    except StageTimeout:
        outcome = Outcome(FAIL, reason=f"stopped when its budget of {budget_s:.0f} s was spent")
    except Exception as exc:  # one stage's failure must not stop the others
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        outcome = Outcome(FAIL, reason=f"raised {last[:600]}")
    seconds = round(time.monotonic() - started, 2)
    return StageResult(
        stage.name, stage.title or stage.name, outcome.status, seconds, budget_s, outcome.figures, outcome.reason
    )


def run_stages(
    stages: list[Stage],
    total_budget_s: float,
    log: Callable[[str], None] = print,
    after: Callable[[], None] | None = None,
) -> list[StageResult]:
    """Run ``stages`` in order, each within its own budget and what is left of the total; ``after`` runs after
    each one (a stage stopped midway can leave state behind, e.g. an open MLflow run)."""
    end = time.monotonic() + total_budget_s
    results = []
    for stage in stages:
        left = end - time.monotonic()
        if left <= 1:
            reason = f"not started: the check's total budget of {total_budget_s:.0f} s was spent"
            results.append(StageResult(stage.name, stage.title or stage.name, SKIP, 0.0, stage.budget_s, {}, reason))
            log(f"==> {stage.name}: skip ({reason})")
            continue
        budget = min(stage.budget_s, left)
        log(f"==> {stage.name} (budget {budget:.0f} s)")
        result = run_stage(stage, budget)
        if after is not None:
            try:
                after()
            except Exception as exc:  # cleaning up must not stop the check
                log(f"    cleaning up after {stage.name} failed: {exc}")
        log(f"    {result.status} in {result.seconds:.1f} s" + (f": {result.reason}" if result.reason else ""))
        results.append(result)
    return results
