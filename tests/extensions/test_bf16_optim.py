"""BFloat16OptimWrapper (extensions.optim): bfloat16 autocast on the CPU, float32 weights and updates."""

from __future__ import annotations

import pytest
import torch

import extensions

extensions.register()
from extensions.optim.bf16 import CPU_BF16_CHECKS, native_bfloat16  # noqa: E402


@pytest.fixture
def said(monkeypatch):
    """What the wrapper logs."""
    lines = []
    monkeypatch.setattr("extensions.optim.bf16.print_log", lambda msg, **kw: lines.append(msg))
    return lines


def _wrapper(model):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    return build_optim_wrapper(model, dict(type="BFloat16OptimWrapper", optimizer=dict(type="SGD", lr=0.1)))


def _step(model, wrapper):
    """One training step as mmengine's BaseModel.train_step takes it; the dtype the convolution computed in."""
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 3, 8, 8))
    wrapper.update_params(out.float().square().mean())
    assert model.weight.dtype == torch.float32 and model.weight.grad is None  # zeroed after the step
    assert not torch.equal(before, model.weight.detach())
    return out.dtype


@pytest.mark.skipif(not native_bfloat16("cpu"), reason="this CPU has no bfloat16 instructions (AVX-512 BF16, AMX)")
def test_forward_runs_in_bfloat16_and_the_weights_stay_float32(said):
    model = torch.nn.Conv2d(3, 4, 3)
    assert _step(model, _wrapper(model)) == torch.bfloat16
    assert said == ["mixed precision: bfloat16 autocast"]


def test_a_cpu_without_bfloat16_trains_in_float32_and_says_so(monkeypatch, said):
    for name in CPU_BF16_CHECKS:
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert not native_bfloat16("cpu")
    model = torch.nn.Conv2d(3, 4, 3)
    assert _step(model, _wrapper(model)) == torch.float32
    assert said == ["mixed precision: float32 (cpu has no bfloat16 instructions)"]
