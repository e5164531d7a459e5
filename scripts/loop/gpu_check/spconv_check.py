"""Sparse convolution on the tested device against the CPU: a SubMConv3d + SparseConv3d stack shaped like
mmdet3d's SparseEncoder, the same weights and voxels on both, dense outputs and gradients compared.

The CPU runs ``spconv`` (the project's fork; on the lent GPU machine the CPython 3.12 wheel with the fork's
Python files over it). CUDA runs ``spconv`` when it was built with CUDA, else ``spconv_triton`` (a drop-in
spconv 2.x written in Triton), which is what the bundle carries: ``backend_for`` says which.
"""

from __future__ import annotations

import importlib

import numpy as np
import torch

from scripts.loop.gpu_check.parity import Case, Tolerance

GRID = (41, 96, 96)  # (z, y, x), like SparseEncoder's sparse_shape
TOL = Tolerance(1e-4, 1e-4)


def backend_for(device_type: str) -> str:
    """The module that runs sparse convolution on ``device_type``."""
    if device_type == "cpu":
        return "spconv"
    constants = importlib.import_module("spconv.cppconstants") if _imports("spconv.cppconstants") else None
    if constants is not None and not getattr(constants, "CPU_ONLY_BUILD", True):
        return "spconv"
    return "spconv_triton" if _imports("spconv_triton") else "spconv"


def _imports(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


def _stack(sp, weights: list[torch.Tensor], device: torch.device):
    layers = sp.SparseSequential(
        sp.SubMConv3d(4, 16, 3, padding=1, bias=False, indice_key="subm1"),
        torch.nn.ReLU(),
        sp.SparseConv3d(16, 32, 3, stride=2, padding=1, bias=False, indice_key="spconv2"),
        torch.nn.ReLU(),
        sp.SubMConv3d(32, 32, 3, padding=1, bias=False, indice_key="subm2"),
        torch.nn.ReLU(),
        sp.SparseConv3d(32, 64, (3, 1, 1), stride=(2, 1, 1), bias=False, indice_key="spconv_down"),
    )
    convs = [m for m in layers.modules() if hasattr(m, "weight") and m.weight is not None]
    for conv, weight in zip(convs, weights, strict=True):
        conv.weight = torch.nn.Parameter(weight.detach().reshape(conv.weight.shape).clone())
    return layers.to(device)


def _inputs(voxels: int = 4000, seed: int = 0) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    flat = rng.choice(2 * GRID[0] * GRID[1] * GRID[2], size=voxels, replace=False)
    batch, rest = np.divmod(flat, GRID[0] * GRID[1] * GRID[2])
    z, rest = np.divmod(rest, GRID[1] * GRID[2])
    y, x = np.divmod(rest, GRID[2])
    shapes = [(16, 3, 3, 3, 4), (32, 3, 3, 3, 16), (32, 3, 3, 3, 32), (64, 3, 1, 1, 32)]  # spconv 2: (out, k, in)
    weights = {f"w{i}": torch.from_numpy(rng.normal(0, 0.2, size=s).astype(np.float32)) for i, s in enumerate(shapes)}
    coors = torch.from_numpy(np.stack([batch, z, y, x], 1).astype(np.int32))
    return {"feats": torch.from_numpy(rng.normal(size=(voxels, 4)).astype(np.float32)), "coors": coors, **weights}


def _run(x: dict[str, torch.Tensor], device_type: str) -> list[torch.Tensor]:
    sp = importlib.import_module(f"{backend_for(device_type)}.pytorch")
    weights = [x[f"w{i}"] for i in range(4)]
    layers = _stack(sp, weights, x["feats"].device)
    tensor = sp.SparseConvTensor(x["feats"], x["coors"], list(GRID), batch_size=2)
    out = layers(tensor).dense()
    # the weights were copied into fresh parameters: route their gradients back to the inputs
    params = [m.weight for m in layers.modules() if hasattr(m, "weight") and m.weight is not None]
    for param, weight in zip(params, weights, strict=True):
        if weight.requires_grad:
            param.register_hook(lambda g, w=weight: w.backward(g.reshape(w.shape).to(w.device)) or None)
    return [out]


def cases() -> list[Case]:
    """The sparse stack's forward, and the gradients of its input features and every weight."""
    return [
        Case(
            "spconv_sparse_encoder_stack",
            "spconv SubMConv3d + SparseConv3d",
            _inputs,
            _run,
            TOL,
            ("feats", "w0", "w1", "w2", "w3"),
            Tolerance(1e-3, 1e-3),
            # spconv's CPU path races when torch has several threads: the same strided convolution gave outputs
            # that differed by up to 23 from run to run on 2 threads, and not at all on one
            cpu_threads=1,
        )
    ]
