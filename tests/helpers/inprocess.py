"""Run a command's ``main`` in the test's own process, as ``python -m`` would run it.

For bad-input tests with many cases: each case in a subprocess pays a fresh import of torch and the stack
(10-15 s here), in-process they share one. ``mmlab_core.cli.run`` is exactly what each ``__main__`` calls
(``sys.exit(run(main))``; tests/test_cli.py covers it), so the exit code and the stderr paragraph are the
ones a user sees. Keep one subprocess case per command to cover the process itself.

A process ends with its state; this process goes on, so what the command left behind is undone: the
environment, the settings, and the mmengine loggers it created (their handlers write to this test's
captured output, which pytest closes when the test ends; a later run's MLflow backend trips over them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping

import pytest

from mmlab_core import settings
from mmlab_core.cli import run


def run_main(
    main: Callable[[list[str]], int],
    args: list[object],
    env: Mapping[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> subprocess.CompletedProcess[str]:
    """``main(args)`` under ``env``, its result shaped like ``subprocess.run(..., capture_output=True)``'s."""
    argv = [str(a) for a in args]
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings.current.cache_clear()
        capsys.readouterr()
        loggers = _mmengine_loggers()
        before = set(loggers)
        try:
            code = run(lambda: main(argv))
        finally:
            for name in set(loggers) - before:
                _close(loggers.pop(name))
        captured = capsys.readouterr()
    settings.current.cache_clear()
    return subprocess.CompletedProcess(argv, code, captured.out, captured.err)


def _mmengine_loggers() -> dict:
    """mmengine's registry of ``MMLogger`` instances (the last one is the "current" logger)."""
    try:
        from mmengine.logging import MMLogger
    except ImportError:
        return {}
    return MMLogger._instance_dict


def _close(logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
