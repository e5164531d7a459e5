"""One progress bar per epoch (and per test pass) instead of mmengine's iteration lines, for the demo.

``use_progress_bars(runner)`` registers :class:`EpochProgress` on a built Runner and keeps mmengine's
per-iteration lines, its ``Exp name`` reminders and its one-line metric dump in the log file only: the
bar shows the loss, and the metric prints its own table. The train CLI keeps mmengine's lines (scripts
and the multi-process tests read them).
"""

from __future__ import annotations

import logging
import re
import sys

from mmengine.hooks import Hook

# mmengine console records that the bars replace (the log file keeps them)
ITERATION_LINES = re.compile(r"Epoch\((train|val|test)\) |Iter\((train|val|test)\) |Exp name: ")


class IterationLinesFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not ITERATION_LINES.match(record.getMessage())


class EpochProgress(Hook):
    """A tqdm bar per training epoch with the running loss, and one per validation or test pass (rank 0)."""

    priority = "VERY_LOW"

    def __init__(self) -> None:
        self.bar = None

    def _open(self, runner, total: int, desc: str) -> None:
        from tqdm import tqdm

        if runner.rank == 0:
            self.bar = tqdm(total=total, desc=desc, unit="it", file=sys.stderr, mininterval=1.0, leave=True)

    def _step(self, outputs=None) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        loss = outputs.get("loss") if isinstance(outputs, dict) else None
        if loss is not None:
            value = loss.detach() if hasattr(loss, "detach") else loss
            self.bar.set_postfix(loss=f"{float(value):.3f}", refresh=False)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def before_train_epoch(self, runner) -> None:
        self._open(runner, len(runner.train_dataloader), f"epoch {runner.epoch + 1}/{runner.max_epochs}")

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step(outputs)

    def after_train_epoch(self, runner) -> None:
        self._close()

    def before_val_epoch(self, runner) -> None:
        self._open(runner, len(runner.val_dataloader), "validation")

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._close()

    def before_test_epoch(self, runner) -> None:
        self._open(runner, len(runner.test_dataloader), "test")

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._close()


def use_progress_bars(runner) -> None:
    """Bars on the terminal instead of mmengine's iteration lines (which stay in the log file)."""
    runner.register_hook(EpochProgress())
    for handler in runner.logger.handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.addFilter(IterationLinesFilter())
