"""mmengine checkpoints under torch >= 2.6 (weights_only=True by default):
real checkpoints load and resume; a pickle that runs code is refused.

patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from tests.helpers.checkpoints import write_code_running_checkpoint
from tests.helpers.toy_model import ToyModel


def _runner(work_dir, **kwargs):
    data = [dict(inputs=torch.tensor([float(i), 1.0]), labels=torch.tensor(float(i % 3))) for i in range(8)]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=data,
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=2,
            collate_fn=dict(type="default_collate"),
        ),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=kwargs.pop("max_iters", 2)),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=2, by_epoch=False)),
        randomness=dict(seed=0),
        **kwargs,
    )


def test_real_mmengine_checkpoint_resumes(tmp_path):
    _runner(tmp_path).train()
    ckpt = tmp_path / "iter_2.pth"
    raw = _load_checkpoint(str(ckpt), map_location="cpu")
    # written as built-in types since checkpoint-write-the-message-hub-and-meta-as-built-in-types.patch;
    # files with HistoryBuffer objects: test_numpy_values_and_history_buffers_load
    assert "train/loss" in raw["message_hub"]["log_scalars"]
    resumed = _runner(tmp_path, max_iters=4, resume=True)
    resumed.train()
    assert resumed.iter == 4
    assert (tmp_path / "iter_4.pth").exists()


def test_numpy_values_and_history_buffers_load(tmp_path):
    path = tmp_path / "values.pth"
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save({"meta": {"seed": np.int64(7), "lr": np.float32(0.5), "arr": np.arange(3)}, "hub": buffer}, path)
    loaded = _load_checkpoint(str(path), map_location="cpu")
    assert loaded["meta"]["seed"] == 7 and loaded["meta"]["arr"].tolist() == [0, 1, 2]
    assert loaded["hub"].current() == 1.5


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    write_code_running_checkpoint(path, marker)
    with pytest.raises(pickle.UnpicklingError) as caught:
        _load_checkpoint(str(path), map_location="cpu")
    message = str(caught.value)
    assert str(path) in message and "system" in message and "MMENGINE_TRUST_CHECKPOINTS" in message
    assert not marker.exists()


def test_legacy_checkpoint_loads_only_with_explicit_opt_in(tmp_path, monkeypatch):
    from argparse import Namespace  # stands in for a legacy type outside the allow-list

    path = tmp_path / "legacy.pth"
    torch.save({"meta": {"args": Namespace(lr=0.1)}}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"argparse\.Namespace"):
        _load_checkpoint(str(path), map_location="cpu")
    monkeypatch.setenv("MMENGINE_TRUST_CHECKPOINTS", "1")
    assert _load_checkpoint(str(path), map_location="cpu")["meta"]["args"].lr == 0.1


class ReachesPrivateState:
    def __reduce__(self):
        return (getattr, (HistoryBuffer, "_statistics_methods"))


def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path):
    path = tmp_path / "getattr.pth"
    torch.save({"meta": ReachesPrivateState()}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"holds `getattr\(.*_statistics_methods.\)`"):
        _load_checkpoint(str(path), map_location="cpu")
