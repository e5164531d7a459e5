"""Checkpoints are written atomically: a run killed at any moment leaves no
truncated checkpoint, and resuming continues from the last complete one.

patches/mmengine/fileio-write-local-files-atomically-checkpoints-last-checkpo.patch
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TRAIN = r"""
import sys, torch
from mmengine.model import BaseModel
from mmengine.runner import Runner

class Big(BaseModel):  # ~24 MB of weights, so that saving takes a while
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2500, 2500)
    def forward(self, inputs, labels=None, mode="tensor"):
        out = self.linear(inputs).mean(dim=1)
        return {"loss": ((out - labels) ** 2).mean()} if mode == "loss" else out

data = [dict(inputs=torch.randn(2500), labels=torch.tensor(0.0)) for _ in range(8)]
Runner(
    model=Big(), work_dir=sys.argv[1],
    train_dataloader=dict(dataset=data, sampler=dict(type="InfiniteSampler", shuffle=False), batch_size=2,
                          collate_fn=dict(type="default_collate")),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=1e-4, momentum=0.9)),
    train_cfg=dict(by_epoch=False, max_iters=int(sys.argv[2])),
    default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1, by_epoch=False, max_keep_ckpts=3),
                       logger=dict(type="LoggerHook", interval=1)),
    resume=len(sys.argv) > 3, randomness=dict(seed=0),
).train()
"""


def test_local_backend_keeps_the_old_file_when_a_write_fails(tmp_path, monkeypatch):
    from mmengine.fileio import LocalBackend

    target = tmp_path / "latest.pth"
    LocalBackend().put(b"complete", target)

    def killed(*args):
        raise KeyboardInterrupt("killed before the rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        LocalBackend().put(b"half-written", target)
    assert target.read_bytes() == b"complete"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pth"]  # no temporary file left


def _checkpoints(work):
    return sorted(work.glob("iter_*.pth"), key=lambda p: int(re.findall(r"\d+", p.name)[0]))


@pytest.mark.parametrize("delay", [4.0, 5.5])
def test_sigkill_mid_run_then_resume(tmp_path, delay):
    from mmengine.runner.checkpoint import _load_checkpoint

    work = tmp_path / "work"
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN, str(work), "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while len(_checkpoints(work)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(delay % 1.0)  # land somewhere in the next iteration or save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = _checkpoints(work)
    assert saved, proc.stderr.read().decode()[-2000:]
    for path in saved:  # every file on disk is complete
        _load_checkpoint(str(path), map_location="cpu")
    # The kill may land between a checkpoint's rename and the update of last_checkpoint: then the newest
    # file is complete but last_checkpoint still names the one before it, and resuming starts from that.
    latest = (work / "last_checkpoint").read_text().strip()
    assert latest in {str(path) for path in saved[-2:]}
    last_iter = int(re.findall(r"\d+", Path(latest).name)[0])
    resumed = subprocess.run(
        [sys.executable, "-c", TRAIN, str(work), str(last_iter + 2), "resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed epoch: 0, iter: {last_iter}" in resumed.stdout + resumed.stderr
    assert _checkpoints(work)[-1].name == f"iter_{last_iter + 2}.pth"
