"""Keep known-harmless upstream noise off the terminal of the loop CLIs.

Everything here is a precise filter: a message pattern and the module (or
mmengine console) it comes from. Nothing is filtered by category alone.
Upstream noise that is ours to fix is fixed at its cause in a patch instead
(patches/mmengine/, patches/mmdeploy/), and is not listed here.

Python warnings, ignored by ``install()`` (message, module, why):

- ``dir_offset and dir_limit_offset will be depressed``, mmdet3d's
  ``anchor3d_head``: warned on every head construction, whatever the
  config says. The cause is in mmdet3d (``Anchor3DHead.__init__``).
- ``torch.meshgrid: in an upcoming release``, ``torch.functional``:
  mmdet3d's ``Anchor3DRangeGenerator`` calls ``torch.meshgrid`` without
  ``indexing=`` (it wants the ``'ij'`` default). The cause is in mmdet3d
  (``task_modules/anchor/anchor_3d_generator.py``).
- ``pos_bboxes is deprecated``, mmdet's ``sampling_result``: mmdet3d's
  ``train_mixins`` reads the deprecated ``pos_bboxes`` property. The cause
  is in mmdet3d (``dense_heads/train_mixins.py``).
- ``Don't suggest using CPU device``, mmdet3d's ``apis.inference``:
  ``init_model`` says so on every CPU model; CPU is this product's target.
- ``broadcast_buffers is deprecated``, torch's DDP as mmengine's
  ``MMDistributedDataParallel`` builds it: mmengine's runner passes
  ``broadcast_buffers=False`` on purpose (buffers stay per-rank), and torch's
  own message says to keep it until its replacement exists.
- ``TracerWarning`` from mmdeploy's ``pillar_encode`` rewrite and mmdet3d's
  ``voxelnet``: expected while tracing for ONNX; the shapes they fix are the
  exported graph's dynamic axes, and deploy compares the outputs anyway.

mmengine console records, kept in the log file (``<work_dir>/<timestamp>/``)
and off the terminal by ``ConsoleFilter``:

- the environment block, the config dump and the hook order that
  ``Runner.__init__`` logs; ``scripts.loop.common.loop_runner`` prints one line instead,
  naming the dumped config and the log file.
- mmdeploy's ``Failed to search registry with scope "mmdet3d" in the
  "Codebases" / "mmdet3d_tasks" / "backend_*" registry tree``: mmdeploy
  builds from its own registries while the model's default scope is
  mmdet3d, and mmengine falls back to mmdeploy's registry, which is right.
- mmdeploy's ``get_onnx_config will be deprecated``: mmdeploy's own
  ``apis/pytorch2onnx.py`` calls its deprecated ``get_onnx_config``
  (the cause is in mmdeploy; ``get_ir_config`` is the replacement).
- mmdet3d's dataset summary (a dashed line, "The length of ... dataset",
  the per-class instance table), logged at every dataset build (train,
  val, test, the pictures, the deploy samples): kept in the train log.

Python loggers: ``mlflow.store.db.utils`` below WARNING ("Creating initial
MLflow database tables...", "Updating database tables" on a new store).
"""

from __future__ import annotations

import logging
import re
import warnings

# (message regex, category, module regex): see the module docstring for why each is harmless
PYTHON_WARNINGS: tuple[tuple[str, type[Warning] | str, str], ...] = (
    (r"dir_offset and dir_limit_offset will be depressed", UserWarning, r"mmdet3d\.models\.dense_heads\.anchor3d_head"),
    (r"torch\.meshgrid: in an upcoming release", UserWarning, r"torch\.functional"),
    (r"DeprecationWarning: pos_bboxes is deprecated", UserWarning, r"mmdet\.models\.task_modules\.samplers"),
    (r"`broadcast_buffers` is deprecated", FutureWarning, r"mmengine\.model\.wrappers\.distributed"),
    (r"Don't suggest using CPU device", UserWarning, r"mmdet3d\.apis\.inference"),
    (r"torch\.tensor results are registered as constants", "TracerWarning", r"mmdeploy\.codebase\.mmdet3d\.models"),
    (r"Converting a tensor to a Python number", "TracerWarning", r"mmdet3d\.models\.detectors\.voxelnet"),
)

# mmengine logger records that stay in the log file and off the terminal: see the module docstring
CONSOLE_ONLY_IN_LOG_FILE = re.compile(
    "|".join(
        (
            r"\n-+\nSystem environment:",
            r"Config:\n",
            r"Hooks will be executed in the following order:",
            r'Failed to search registry with scope "mmdet3d" in the "(Codebases|mmdet3d_tasks|backend_\w+)" registry',
            r"DeprecationWarning: get_onnx_config will be deprecated",
            r"-{30}$",  # mmdet3d Det3DDataset's summary: separator, size, per-class table
            r"The length of (training|test|validation) dataset: \d+$",
            r"The number of instances per category in the dataset:\n",
        )
    )
)


class ConsoleFilter(logging.Filter):
    """Drops the Runner's environment, config and hook-order blocks from a console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not CONSOLE_ONLY_IN_LOG_FILE.match(record.getMessage())


CONSOLE_FILTER = ConsoleFilter()


def _category(category: type[Warning] | str) -> type[Warning]:
    if isinstance(category, str):  # torch.jit.TracerWarning: import torch only when the filter is installed
        import torch.jit

        return getattr(torch.jit, category)
    return category


def install() -> None:
    """Ignore the known-harmless upstream warnings listed above, on this process's mmengine logger too (idempotent).

    Runners built later get the console filter from ``scripts.loop.common.loop_runner``."""
    from mmengine.logging import MMLogger

    for message, category, module in PYTHON_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=_category(category), module=module)
    quiet_console(MMLogger.get_current_instance())
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)  # "Creating initial MLflow database tables"


def quiet_console(logger: logging.Logger) -> None:
    """Keep ``CONSOLE_ONLY_IN_LOG_FILE`` records off the logger's terminal handlers (file handlers keep them)."""
    for handler in logger.handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.addFilter(CONSOLE_FILTER)
