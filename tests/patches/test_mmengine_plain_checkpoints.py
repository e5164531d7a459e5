"""mmengine writes checkpoints of built-in types and tensors only, so plain
``torch.load(path, weights_only=True)`` reads them in a process that imports
neither mmengine nor numpy; resuming restores the message hub from that form
and from the old one (HistoryBuffer objects, numpy values).

patches/mmengine/checkpoint-write-the-message-hub-and-meta-as-built-in-types.patch
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from tests.helpers.toy_model import ToyModel

# torch itself imports numpy when it can, so block both numpy and mmengine: the
# file must need neither (and weights_only=True allows no numpy global anyway).
PLAIN_LOAD = r"""
import sys, warnings
sys.modules["numpy"] = sys.modules["mmengine"] = None
warnings.simplefilter("ignore")  # torch: "Failed to initialize NumPy"
import torch
ck = torch.load(sys.argv[1], weights_only=True)
def leaves(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from leaves(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from leaves(v)
    else:
        yield x
print(sorted(ck))
print(sorted({type(leaf).__name__ for leaf in leaves(ck)}))
print(len(ck["message_hub"]["log_scalars"]["train/loss"]["log_history"]), ck["meta"]["iter"])
"""

# numpy values in the dataset's metainfo reach both the checkpoint's meta and
# the message hub's runtime information (RuntimeInfoHook stores it).
METAINFO = dict(classes=("car", "pedestrian"), palette=np.array([[255, 0, 0], [0, 0, 255]]), version=np.int64(2))


class ToyDataset(torch.utils.data.Dataset):
    metainfo = METAINFO

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]), labels=torch.tensor(float(i % 3)))


def _runner(work_dir, max_iters=2, **kwargs):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=2,
            collate_fn=dict(type="default_collate"),
        ),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9)),
        param_scheduler=dict(type="MultiStepLR", milestones=[1], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1, by_epoch=False)),
        randomness=dict(seed=0),
        # runners built within one second would share a message hub (named by the time)
        experiment_name=f"plain-ckpt-{uuid.uuid4().hex}",
        **kwargs,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    runner = _runner(work)
    runner.train()
    return work, runner.message_hub.get_scalar("train/loss").data[0].tolist()


def test_checkpoint_loads_with_plain_torch(trained):
    work, _ = trained
    proc = subprocess.run(
        [sys.executable, "-c", PLAIN_LOAD, str(work / "iter_2.pth")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [
        "['message_hub', 'meta', 'optimizer', 'param_schedulers', 'state_dict']",
        "['NoneType', 'Tensor', 'bool', 'float', 'int', 'str']",
        "2 2",
    ]


def test_meta_and_runtime_info_hold_builtin_types(trained):
    work, _ = trained
    ck = torch.load(work / "iter_2.pth", weights_only=True)
    expected = dict(classes=("car", "pedestrian"), palette=[[255, 0, 0], [0, 0, 255]], version=2)
    assert ck["meta"]["dataset_meta"] == expected and type(ck["meta"]["dataset_meta"]["version"]) is int
    assert ck["message_hub"]["runtime_info"]["dataset_meta"] == expected
    loss = ck["message_hub"]["log_scalars"]["train/loss"]
    assert loss["count_history"] == [1.0, 1.0] and loss["max_length"] == 1000000


def test_resume_restores_history_and_progress(trained, tmp_path):
    work, losses = trained
    resumed = _runner(tmp_path, max_iters=4, load_from=str(work / "iter_2.pth"), resume=True)
    resumed.train()  # resumes at iter 2, then runs iterations 3 and 4
    history = resumed.message_hub.get_scalar("train/loss").data[0].tolist()
    assert history[:2] == losses and len(history) == 4
    assert resumed.iter == 4 and resumed.message_hub.get_info("iter") == 3  # set before the last iteration
    log = "".join(path.read_text() for path in tmp_path.glob("*/*.log"))
    assert "resumed epoch: 0, iter: 2" in log
    assert "dataset metainfo from the resumed checkpoint is different" not in log  # arrays saved as lists


def test_message_hub_round_trip():
    hub = MessageHub("plain-round-trip")
    for value in (1.0, 2.0, 4.0):
        hub.update_scalar("train/loss", value)
    hub.update_info("best", np.float64(0.5))
    state = hub.state_dict()
    assert state["log_scalars"]["train/loss"] == dict(
        log_history=[1.0, 2.0, 4.0], count_history=[1.0, 1.0, 1.0], max_length=1000000
    )
    assert type(state["runtime_info"]["best"]) is float
    restored = MessageHub("plain-round-trip-restored")
    restored.load_state_dict(state)
    buffer = restored.get_scalar("train/loss")
    assert buffer.data[0].tolist() == [1.0, 2.0, 4.0] and buffer.mean() == pytest.approx(7 / 3)
    assert restored.get_info("best") == 0.5


def test_old_checkpoint_with_history_buffers_still_resumes(trained, tmp_path):
    """A file in the pre-patch layout (HistoryBuffer objects, numpy meta) loads
    through mmengine's allow-listed loader and resumes."""
    work, losses = trained
    ck = torch.load(work / "iter_2.pth", weights_only=True)
    ck["message_hub"]["log_scalars"] = {
        key: HistoryBuffer(**value) for key, value in ck["message_hub"]["log_scalars"].items()
    }
    ck["meta"]["dataset_meta"] = METAINFO
    ck["meta"]["seed"] = np.int64(ck["meta"]["seed"])
    old = tmp_path / "old.pth"
    torch.save(ck, old)

    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL (mmengine|numpy)\."):
        torch.load(old, weights_only=True)  # the reason for the new layout
    raw = _load_checkpoint(str(old), map_location="cpu")
    assert isinstance(raw["message_hub"]["log_scalars"]["train/loss"], HistoryBuffer)

    resumed = _runner(tmp_path / "work", max_iters=3, load_from=str(old), resume=True)
    resumed.train()
    assert resumed.iter == 3
    assert resumed.message_hub.get_scalar("train/loss").data[0].tolist()[:2] == losses
