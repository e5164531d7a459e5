"""The parity harness: run one op on two devices with the same inputs, forward and backward, and compare.

A ``Case`` makes its inputs on the CPU once; each device gets a copy. Floating outputs are compared with
the case's tolerance (``|a - b| <= atol + rtol * |b|``), integer and boolean outputs exactly. Where the case
has inputs to differentiate, the outputs are back-propagated with the same seeded upstream gradients on both
devices and the input gradients compared with ``grad_tol``. ``perturb`` adds an error to the tested run's
first output, which is how the tests show that the harness fails what it should.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

Tensors = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Tolerance:
    """Absolute and relative tolerance; both 0 means exactly equal."""

    atol: float = 0.0
    rtol: float = 0.0

    def __str__(self) -> str:
        return "exact" if self.atol == 0 and self.rtol == 0 else f"atol {self.atol:g}, rtol {self.rtol:g}"


EXACT = Tolerance()


@dataclass(frozen=True)
class Case:
    """One op on one set of inputs. ``run(inputs, device_type)`` returns its outputs; ``device_type``
    ('cpu' or 'cuda') lets a case pick the implementation a device has (e.g. mmdet's focal loss)."""

    name: str
    op: str
    inputs: Callable[[], Tensors]
    run: Callable[[Tensors, str], Sequence[torch.Tensor]]
    tol: Tolerance = EXACT
    grad_inputs: tuple[str, ...] = ()
    grad_tol: Tolerance = field(default_factory=lambda: Tolerance(1e-5, 1e-4))
    canon: Callable[[list[torch.Tensor]], list[torch.Tensor]] | None = None  # a device-independent order
    cpu_threads: int | None = None  # torch threads for the CPU run (a kernel that races on several)


@dataclass(frozen=True)
class CaseResult:
    """One case's verdict and its largest differences (NaN-free floats; None where there is no backward)."""

    name: str
    op: str
    passed: bool
    forward_max_abs_diff: float
    backward_max_abs_diff: float | None
    tolerance: str
    grad_tolerance: str | None
    seconds: float
    reason: str = ""


def _on(inputs: Tensors, device: str, grads: tuple[str, ...]) -> Tensors:
    out = {}
    for key, value in inputs.items():
        moved = value.detach().to(device).clone() if isinstance(value, torch.Tensor) else value
        out[key] = moved.requires_grad_() if key in grads else moved
    return out


def _execute(case: Case, inputs: Tensors, device: str) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The outputs and the input gradients of ``case`` on ``device``, both moved to the CPU."""
    threads = torch.get_num_threads()
    if case.cpu_threads and device == "cpu":
        torch.set_num_threads(case.cpu_threads)
    try:
        return _forward_backward(case, inputs, device)
    finally:
        torch.set_num_threads(threads)


def _forward_backward(case: Case, inputs: Tensors, device: str) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    x = _on(inputs, device, case.grad_inputs)
    outs = [o for o in case.run(x, torch.device(device).type) if isinstance(o, torch.Tensor)]
    grads: list[torch.Tensor] = []
    if case.grad_inputs:
        generator = torch.Generator().manual_seed(0)
        pairs = [
            (o, torch.randn(o.shape, generator=generator, dtype=o.dtype).to(o.device)) for o in outs if o.requires_grad
        ]
        if pairs:
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        missing = [k for k in case.grad_inputs if x[k].grad is None]
        if missing:  # a gradient that never arrives is a failure, not a zero that matches another zero
            raise RuntimeError(f"no gradient reached {', '.join(missing)} on {device}")
        grads = [x[k].grad.cpu() for k in case.grad_inputs]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    outs = [o.detach().cpu() for o in outs]
    return (case.canon(outs) if case.canon else outs), grads


def difference(a: torch.Tensor, b: torch.Tensor, tol: Tolerance) -> tuple[bool, float, str]:
    """Whether ``a`` (tested) matches ``b`` (reference) within ``tol``, the largest |a - b|, and why not."""
    if a.shape != b.shape:
        return False, float("inf"), f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}"
    if a.numel() == 0:
        return True, 0.0, ""
    if not (a.is_floating_point() and b.is_floating_point()):
        wrong = int((a != b).sum())
        diff = float((a.long() - b.long()).abs().max()) if a.dtype != torch.bool else float(wrong > 0)
        return wrong == 0, diff, f"{wrong} of {a.numel()} values differ" if wrong else ""
    a64, b64 = a.double(), b.double()
    both_nan = torch.isnan(a64) & torch.isnan(b64)
    same_inf = torch.isinf(a64) & (a64 == b64)
    gap = torch.where(both_nan | same_inf, 0.0, (a64 - b64).abs())
    gap = torch.nan_to_num(gap, nan=float("inf"))
    bad = gap > tol.atol + tol.rtol * b64.abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
    worst = float(gap.max())
    return not bool(bad.any()), worst, f"{int(bad.sum())} of {a.numel()} values outside {tol}" if bad.any() else ""


def _compare_all(tested: list[torch.Tensor], reference: list[torch.Tensor], tol: Tolerance, what: str):
    if len(tested) != len(reference):
        return False, float("inf"), f"{what}: {len(tested)} tensors vs {len(reference)}"
    ok, worst, reasons = True, 0.0, []
    for index, (a, b) in enumerate(zip(tested, reference, strict=True)):
        good, diff, why = difference(a, b, tol)
        ok, worst = ok and good, max(worst, diff)
        if not good:
            reasons.append(f"{what} {index}: {why}")
    return ok, worst, "; ".join(reasons)


def _perturbed(outs: list[torch.Tensor], amount: float) -> list[torch.Tensor]:
    if not outs or amount == 0:
        return outs
    first = outs[0].clone()
    if first.numel():
        flat = first.view(-1)
        flat[0] = flat[0] + (amount if first.is_floating_point() else max(1, int(amount)))
    return [first, *outs[1:]]


def compare_case(case: Case, reference: str = "cpu", tested: str = "cuda", perturb: float = 0.0) -> CaseResult:
    """Run ``case`` on both devices and compare the tested run with the reference run."""
    started = time.monotonic()
    inputs = case.inputs()
    ref_out, ref_grad = _execute(case, inputs, reference)
    out, grad = _execute(case, inputs, tested)
    fwd_ok, fwd_diff, fwd_why = _compare_all(_perturbed(out, perturb), ref_out, case.tol, "output")
    bwd_ok, bwd_diff, bwd_why = True, None, ""
    if case.grad_inputs:
        bwd_ok, bwd_diff, bwd_why = _compare_all(grad, ref_grad, case.grad_tol, "gradient")
    return CaseResult(
        name=case.name,
        op=case.op,
        passed=fwd_ok and bwd_ok,
        forward_max_abs_diff=fwd_diff,
        backward_max_abs_diff=bwd_diff,
        tolerance=str(case.tol),
        grad_tolerance=str(case.grad_tol) if case.grad_inputs else None,
        seconds=round(time.monotonic() - started, 3),
        reason="; ".join(r for r in (fwd_why, bwd_why) if r),
    )


def failed_case(case: Case, exc: BaseException) -> CaseResult:
    """A case that raised: failed, with the exception as its reason."""
    reason = f"raised {type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
    return CaseResult(case.name, case.op, False, float("inf"), None, str(case.tol), None, 0.0, reason)
