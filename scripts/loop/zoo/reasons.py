"""A failure turned into one line a user can act on: which op, package or bug stopped a family, and where
the fix is tracked (issue 12). The raw first line of the error follows the reason in the report."""

from __future__ import annotations

import re
import traceback

# (pattern in the error text, reason); the first match wins; {0} is the pattern's first group.
KNOWN = (
    (r"get_indice_pairs is not implemented on CPU", "needs sparse convolution on CPU: spconv 2.x (issue 12 §1)"),
    (r"torch\.cuda\.IntTensor", "needs CPU op furthest_point_sample (issue 12 §2)"),
    (r"(\w+?)(?:_forward|_backward)?_impl: implementation for device cpu not found", "needs CPU op {0} (issue 12 §2)"),
    (r"roi_width >= 0 && roi_height >= 0", "roi_align's CPU op asserts on degenerate boxes (issue 12 §3)"),
    (r"'SSDHead' object has no attribute 'loss_cls'", "SSDHead.loss_cls is missing at predict (issue 12 §3)"),
    (r"No module named '([\w.]+)'", "needs the optional package {0}: pip install it (issue 12 §3)"),
    (
        r"(?:huggingface|HF_HUB_OFFLINE|Connection|resolve|Max retries)",
        "downloads weights or a tokenizer at build time, and this machine has no network",
    ),
)


def reason(exc: BaseException) -> str:
    """The actionable reason for ``exc``, or its type and first line when no known cause matches."""
    text = "".join(traceback.format_exception_only(type(exc), exc))
    op = _mmcv_op(exc)
    for pattern, why in KNOWN:
        found = re.search(pattern, text)
        if found:
            return why.format(*found.groups())
    if isinstance(exc, LookupError) and not isinstance(exc, KeyError | IndexError):
        return str(exc)
    if op and isinstance(exc, NotImplementedError | RuntimeError | AttributeError | TypeError):
        return f"mmcv.ops.{op} fails on CPU (issue 12 §2): {first_line(exc)}"
    return first_line(exc)


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters)."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0] if message else ''}"[:200]


def _mmcv_op(exc: BaseException) -> str | None:
    """The mmcv.ops module the error was raised in, if any (the innermost frame in mmcv/ops/)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        found = re.search(r"mmcv/ops/(\w+)\.py$", frame.filename)
        if found:
            return found.group(1)
    return None


def died(signal_or_code: int, stage: str, stderr_tail: str) -> str:
    """Why a probe process ended without a result for ``stage``: killed by a signal or a hard exit."""
    last = next((line for line in reversed(stderr_tail.strip().splitlines()) if line.strip()), "")
    how = f"signal {-signal_or_code}" if signal_or_code < 0 else f"exit code {signal_or_code}"
    crash = " (a compiled op aborted the interpreter, issue 12 §3)" if signal_or_code == -6 else ""
    return f"the process died in {stage} with {how}{crash}: {last[:160]}"
