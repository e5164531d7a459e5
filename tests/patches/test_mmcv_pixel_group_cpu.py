"""``mmcv.ops.pixel_group`` on the CPU groups pixels, and bad input raises instead of aborting the process.

Patch: patches/mmcv/ops-pixel-group-check-inputs-with-torch-check-not-assert.patch

Each call runs in a subprocess: before the patch the op aborted the interpreter (SIGABRT, exit code -6).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import deque

import numpy as np
import pytest

# Two text kernels (labels 1 and 2) inside one foreground mask; the embedding of the pixels right of
# column 5 is far from kernel 2's, so the growth of kernel 2 stops there.
H, W, REGIONS, THRESHOLD = 6, 8, 3, 0.8


def _inputs() -> dict:
    score = np.linspace(0.1, 0.9, H * W, dtype=np.float32).reshape(H, W)
    mask = np.zeros((H, W), bool)
    mask[1:5, 0:7] = True
    embedding = np.zeros((H, W, 2), np.float32)
    embedding[:, 5:, 0] = 3.0
    label = np.zeros((H, W), np.int32)
    label[2, 1] = 1
    label[2:4, 3] = 2
    contour = (label > 0).astype(np.uint8)
    return dict(score=score, mask=mask, embedding=embedding, kernel_label=label, kernel_contour=contour)


def _reference(score, mask, embedding, kernel_label, kernel_contour) -> list[list[float]]:
    """Breadth-first growth of each kernel over the mask, 4-connected, while the embedding stays close."""
    means = {k: embedding[kernel_label == k].mean(0) for k in range(1, REGIONS)}
    label = kernel_label.copy()
    seeds = np.nonzero((kernel_label > 0) & (kernel_contour > 0))
    queue = deque((y, x, label[y, x]) for y, x in zip(*seeds, strict=True))
    while queue:
        y, x, region = queue.popleft()
        for dy, dx in ((0, -1), (0, 1), (-1, 0), (1, 0)):
            ty, tx = y + dy, x + dx
            if not (0 <= ty < H and 0 <= tx < W) or not mask[ty, tx] or label[ty, tx] > 0:
                continue
            if ((means[region] - embedding[ty, tx]) ** 2).sum() >= THRESHOLD**2:
                continue
            label[ty, tx] = region
            queue.append((ty, tx, region))
    out = [[0.0, 0.0]]
    for region in range(1, REGIONS):
        ys, xs = np.nonzero(label == region)  # row-major, like the op
        coords = [float(v) for xy in zip(xs, ys, strict=True) for v in xy]
        out.append([float(score[ys, xs].mean()), float(len(ys)), *coords])
    return out


def _run(code: str) -> subprocess.CompletedProcess:
    prelude = "import json, numpy as np, torch\nfrom mmcv.ops import pixel_group\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=300)


def _call(inputs: dict) -> str:
    args = ", ".join(f"np.array({v.tolist()!r}, dtype=np.{v.dtype})" for v in inputs.values())
    return f"out = pixel_group({args}, {REGIONS}, {THRESHOLD})\nprint(json.dumps([list(map(float, r)) for r in out]))"


def test_pixel_group_groups_pixels_like_the_reference():
    inputs = _inputs()
    proc = _run(_call(inputs))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = _reference(**inputs)
    assert [len(r) for r in got] == [len(r) for r in expected]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5)
    assert got[1][1] > 1 and got[2][1] > 2  # both kernels grew


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("inputs['mask'] = inputs['mask'][:, :5]", "must have the score's"),
        ("inputs['kernel_label'] = inputs['kernel_label'].astype(np.int64)", "kernel_label must be int32"),
        ("inputs['kernel_label'][0, 0] = 7", "kernel_region_num is 3"),
    ],
)
def test_bad_input_raises_a_python_error_instead_of_aborting(change, message):
    inputs = _inputs()
    exec(change, {"np": np, "inputs": inputs})
    proc = _run(f"try:\n    {_call(inputs).splitlines()[0]}\nexcept RuntimeError as err:\n    print('RAISED', err)")
    assert proc.returncode == 0, f"exit code {proc.returncode}: {proc.stderr[-2000:]}"
    assert "RAISED" in proc.stdout and message in proc.stdout
