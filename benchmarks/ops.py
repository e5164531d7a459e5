"""Time mmcv's CPU point-cloud ops on realistic sizes and print a Markdown table.

    .venv/bin/python -m benchmarks.ops [--repeats 3]

Each op runs once to warm up, then ``--repeats`` times; the table gives the best wall time (the least
disturbed by other work on the machine) and the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch

from mmlab_core.cli import run


def _cloud(n: int, seed: int) -> torch.Tensor:
    """(1, n, 3) points spread like one LiDAR sweep's front half: 70 m x 80 m x 4 m."""
    gen = torch.Generator().manual_seed(seed)
    low, high = torch.tensor([0.0, -40.0, -3.0]), torch.tensor([70.0, 40.0, 1.0])
    return (low + (high - low) * torch.rand(1, n, 3, generator=gen)).contiguous()


def _boxes(num: int, seed: int) -> torch.Tensor:
    """(1, num, 7) car-sized boxes inside the cloud's range."""
    gen = torch.Generator().manual_seed(seed)
    centre = torch.tensor([0.0, -40.0, -3.0]) + torch.rand(num, 3, generator=gen) * torch.tensor([70.0, 80.0, 2.0])
    size = torch.tensor([4.0, 1.8, 1.6]).expand(num, 3)
    yaw = (torch.rand(num, 1, generator=gen) - 0.5) * 6.28
    return torch.cat([centre, size, yaw], 1)[None].contiguous()


def _deform_rois(num: int, seed: int) -> torch.Tensor:
    """(num, 5) image-space RoIs of 32-256 px on an 800 x 1344 image, batch index 0."""
    gen = torch.Generator().manual_seed(seed)
    size = 32 + 224 * torch.rand(num, 2, generator=gen)
    corner = torch.rand(num, 2, generator=gen) * (torch.tensor([1344.0, 800.0]) - size)
    return torch.cat([torch.zeros(num, 1), corner, corner + size], 1)


def _cases() -> list[tuple[str, str, Callable[[], object]]]:
    """(op, size, call) for every op; inputs are built once, outside the timed call."""
    from mmcv import ops

    big, small = _cloud(16384, 0), _cloud(4096, 1)
    fps_idx = ops.furthest_point_sample(big, 4096)
    dist = torch.cdist(small[0], small[0])[None].pow(2).contiguous()
    feats_big = torch.rand(1, 64, 16384, requires_grad=True)
    feats_small = torch.rand(1, 128, 4096, requires_grad=True)
    centres = ops.gather_points(big.transpose(1, 2).contiguous(), fps_idx).transpose(1, 2).contiguous()
    ball_idx = ops.ball_query(0.0, 2.0, 32, big, centres)
    nn_dist, nn_idx = ops.three_nn(big, small)
    weight = (1.0 / (nn_dist + 1e-8)) / (1.0 / (nn_dist + 1e-8)).sum(2, keepdim=True)
    scan, boxes = _cloud(100_000, 2), _boxes(50, 3)
    voxel = torch.div(scan[0], torch.tensor([0.2, 0.2, 4.0]), rounding_mode="floor").int()
    voxel_feats = torch.rand(100_000, 4, requires_grad=True)
    rois, roi_feats = _boxes(100, 4), torch.rand(1, 16384, 128)
    roiaware = ops.RoIAwarePool3d(out_size=14, max_pts_per_voxel=128, mode="max")
    roi_feats_grad = torch.rand(16384, 16, requires_grad=True)
    # two samples stacked (PV-RCNN's layout): 16,384 points and 2,048 of the 4,096 FPS centres each
    stacked, stacked_cnt = torch.cat([big[0], _cloud(16384, 5)[0]]), torch.tensor([16384, 16384], dtype=torch.int32)
    keypoints, keypoints_cnt = centres[0], torch.tensor([2048, 2048], dtype=torch.int32)
    stacked_idx = ops.ball_query(0, 2.0, 32, stacked, keypoints, stacked_cnt, keypoints_cnt)
    stacked_feats = torch.rand(32768, 32, requires_grad=True)
    fpn_level, dpool_rois = torch.rand(1, 256, 100, 168, requires_grad=True), _deform_rois(512, 6)
    dpool_offset = (0.2 * torch.rand(512, 2, 7, 7) - 0.1).requires_grad_()

    def backward(out: torch.Tensor) -> None:
        out.sum().backward()

    return [
        ("furthest_point_sample", "16,384 -> 4,096 points", lambda: ops.furthest_point_sample(big, 4096)),
        (
            "furthest_point_sample_with_dist",
            "4,096 -> 1,024 points",
            lambda: ops.furthest_point_sample_with_dist(dist, 1024),
        ),
        ("gather_points fwd+bwd", "64 ch x 16,384 -> 4,096", lambda: backward(ops.gather_points(feats_big, fps_idx))),
        ("ball_query", "4,096 centres x 16,384 points, r 2 m, 32", lambda: ops.ball_query(0.0, 2.0, 32, big, centres)),
        (
            "grouping_operation fwd+bwd",
            "64 ch, 4,096 x 32 from 16,384",
            lambda: backward(ops.grouping_operation(feats_big, ball_idx)),
        ),
        ("knn", "4,096 centres x 16,384 points, k 16", lambda: ops.knn(16, big, centres)),
        ("three_nn", "16,384 x 4,096 points", lambda: ops.three_nn(big, small)),
        (
            "three_interpolate fwd+bwd",
            "128 ch, 4,096 -> 16,384",
            lambda: backward(ops.three_interpolate(feats_small, nn_idx, weight)),
        ),
        ("points_in_boxes_part", "100,000 points x 50 boxes", lambda: ops.points_in_boxes_part(scan, boxes)),
        ("points_in_boxes_all", "100,000 points x 50 boxes", lambda: ops.points_in_boxes_all(scan, boxes)),
        (
            "roipoint_pool3d",
            "16,384 points x 100 boxes, 512 samples, 128 ch",
            lambda: ops.RoIPointPool3d(512)(big, roi_feats, rois),
        ),
        (
            "roiaware_pool3d max fwd+bwd",
            "16,384 points x 100 boxes, 14^3 voxels, 16 ch",
            lambda: backward(roiaware(rois[0], big[0], roi_feats_grad)),
        ),
        (
            "stacked ball_query",
            "2 x (2,048 centres x 16,384 points), r 2 m, 32",
            lambda: ops.ball_query(0, 2.0, 32, stacked, keypoints, stacked_cnt, keypoints_cnt),
        ),
        (
            "stacked grouping_operation fwd+bwd",
            "32 ch, 2 x 2,048 x 32 from 2 x 16,384",
            lambda: backward(ops.grouping_operation(stacked_feats, stacked_idx, stacked_cnt, keypoints_cnt)),
        ),
        (
            "deform_roi_pool fwd+bwd",
            "512 RoIs of 32-256 px, 256 ch, 1/8 scale (100 x 168), 7x7, offsets",
            lambda: backward(ops.deform_roi_pool(fpn_level, dpool_rois, dpool_offset, (7, 7), 0.125, 0, 0.1)),
        ),
        (
            "dynamic_scatter mean fwd+bwd",
            "100,000 points, 4 ch, 0.2 m pillars",
            lambda: backward(ops.dynamic_scatter(voxel_feats, voxel, "mean")[0]),
        ),
    ]


def _time(call: Callable[[], object], repeats: int) -> list[float]:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per op (default 3)")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    print("| op | size | best ms | median ms |\n|---|---|---:|---:|")
    for name, size, call in _cases():
        times = _time(call, args.repeats)
        print(f"| {name} | {size} | {min(times) * 1e3:.1f} | {statistics.median(times) * 1e3:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
