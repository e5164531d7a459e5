"""Parity cases for mmcv's point-cloud ops (PointNet++, 3DSSD, PV-RCNN, VoteNet): the inputs of
tests/patches/test_mmcv_cpu_ops_points.py and test_mmcv_cpu_ops_stacked_points.py, moved here."""

from __future__ import annotations

import numpy as np
import torch

from scripts.loop.gpu_check.parity import EXACT, Case, Tolerance

FLOAT = Tolerance(1e-5, 1e-5)


def cloud(*shape: int, seed: int = 0, scale: float = 10.0) -> torch.Tensor:
    """Uniform points in [-scale, scale), float32."""
    return torch.from_numpy(np.random.default_rng(seed).uniform(-scale, scale, size=shape).astype(np.float32))


def ints(high: int, *shape: int, seed: int = 0, low: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(low, high, size=shape).astype(np.int32))


def counts(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int32)


def _ops():
    from mmcv import ops

    return ops


def cases() -> list[Case]:
    """Every point op, forward and (where it has one) backward."""
    return [
        Case(
            "furthest_point_sample",
            "furthest_point_sample",
            lambda: {"xyz": cloud(2, 2000, 3)},
            lambda x, d: [_ops().furthest_point_sample(x["xyz"], 256)],
        ),
        Case(
            "furthest_point_sample_with_dist",
            "furthest_point_sample_with_dist",
            lambda: {"dist": torch.cdist(cloud(2, 300, 3, seed=1), cloud(2, 300, 3, seed=1)) ** 2},
            lambda x, d: [_ops().furthest_point_sample_with_dist(x["dist"], 64)],
        ),
        Case(
            "gather_points",
            "gather_points",
            lambda: {"feats": cloud(2, 16, 500, seed=2), "idx": ints(500, 2, 128, seed=3)},
            lambda x, d: [_ops().gather_points(x["feats"], x["idx"])],
            EXACT,
            ("feats",),
        ),
        Case(
            "group_points",
            "grouping_operation",
            lambda: {"feats": cloud(2, 8, 400, seed=5), "idx": ints(400, 2, 64, 16, seed=6)},
            lambda x, d: [_ops().grouping_operation(x["feats"], x["idx"])],
            EXACT,
            ("feats",),
        ),
        Case(
            "ball_query",
            "ball_query",
            lambda: {"xyz": cloud(2, 2000, 3, seed=8), "centres": cloud(2, 200, 3, seed=9)},
            lambda x, d: [_ops().ball_query(0.0, 3.0, 16, x["xyz"], x["centres"])],
        ),
        Case(
            "ball_query_min_radius",
            "ball_query",
            lambda: {"xyz": cloud(2, 2000, 3, seed=8), "centres": cloud(2, 200, 3, seed=9)},
            lambda x, d: [_ops().ball_query(1.0, 4.0, 8, x["xyz"], x["centres"])],
        ),
        Case(
            "knn",
            "knn",
            lambda: {"xyz": cloud(2, 1000, 3, seed=10), "centres": cloud(2, 100, 3, seed=11)},
            lambda x, d: [_ops().knn(16, x["xyz"], x["centres"])],
        ),
        Case(
            "three_nn",
            "three_nn",
            lambda: {"target": cloud(2, 1000, 3, seed=13), "source": cloud(2, 300, 3, seed=14)},
            lambda x, d: list(_ops().three_nn(x["target"], x["source"]))[::-1],  # indices first, exact
            FLOAT,
        ),
        Case(
            "three_interpolate",
            "three_interpolate",
            lambda: {
                "feats": cloud(2, 16, 300, seed=16),
                "idx": ints(300, 2, 1000, 3, seed=15),
                "weight": cloud(2, 1000, 3, seed=17, scale=1.0).abs(),
            },
            lambda x, d: [_ops().three_interpolate(x["feats"], x["idx"], x["weight"])],
            FLOAT,
            ("feats",),
        ),
        Case(
            "stack_ball_query",
            "ball_query (stacked)",
            lambda: {"xyz": cloud(500, 3, seed=1, scale=5), "centres": cloud(65, 3, seed=2, scale=5)},
            lambda x, d: [
                _ops().ball_query(
                    0,
                    2.0,
                    16,
                    x["xyz"],
                    x["centres"],
                    counts(300, 200).to(x["xyz"].device),
                    counts(40, 25).to(x["xyz"].device),
                )
            ],
        ),
        Case(
            "stack_group_points",
            "grouping_operation (stacked)",
            lambda: {"feats": cloud(50, 5, seed=4, scale=5), "idx": ints(30, 13, 6, seed=3)},
            lambda x, d: [
                _ops().grouping_operation(
                    x["feats"], x["idx"], counts(30, 20).to(x["feats"].device), counts(8, 5).to(x["feats"].device)
                )
            ],
            EXACT,
            ("feats",),
        ),
    ]
