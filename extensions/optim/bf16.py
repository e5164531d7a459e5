"""Mixed-precision training with bfloat16 autocast, on the CPU as well as on CUDA.

mmengine's ``AmpOptimWrapper`` refuses a machine without an accelerator. bfloat16 keeps float32's exponent
range, so it needs no loss scaling: the forward pass runs under ``torch.autocast`` (convolutions and matrix
products in bfloat16), while the weights, their gradients and the optimizer step stay float32, so the
checkpoints are the same as without it. Where the device has no bfloat16 instructions (a CPU without AVX-512
BF16 or AMX, a GPU before Ampere) emulation would be slower than float32, so the wrapper trains in float32
there and says so once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import torch
from mmdet3d.registry import OPTIM_WRAPPERS
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

CPU_BF16_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's (private) probes


def native_bfloat16(device: str) -> bool:
    """Whether ``device`` ("cpu", "cuda") computes bfloat16 in hardware."""
    if device == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device == "cpu":
        return any(getattr(torch.cpu, name, lambda: False)() for name in CPU_BF16_CHECKS)
    return False


@OPTIM_WRAPPERS.register_module()
class BFloat16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under bfloat16 autocast, where the model's device has it."""

    _autocast: bool | None = None

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        device = next(model.parameters()).device.type
        if self._autocast is None:
            self._autocast = native_bfloat16(device)
            how = "bfloat16 autocast" if self._autocast else f"float32 ({device} has no bfloat16 instructions)"
            print_log(f"mixed precision: {how}", logger="current")
        cast = torch.autocast(device, dtype=torch.bfloat16) if self._autocast else nullcontext()
        with super().optim_context(model), cast:
            yield
