"""What an mmengine training run logs about itself: true, and no warnings about APIs it did not use.

patches/mmengine/runner-report-no-gpu-for-processes-on-the-cpu.patch
patches/mmengine/hooks-checkpoint-build-the-deprecated-fileclient-only-for-fi.patch
patches/mmengine/visualization-warn-about-the-mlflow-server-only-for-a-server.patch
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


class _Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode="tensor"):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        return {"loss": ((out.squeeze(-1) - torch.stack(labels)) ** 2).mean()} if mode == "loss" else out


class _Data(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return dict(inputs=torch.full((2,), float(index)), labels=torch.tensor(float(index)))


def _runner(work_dir: Path, **kwargs):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Model(BaseModel):
        def __init__(self):
            super().__init__()
            self.toy = _Toy()

        def forward(self, inputs, labels=None, mode="tensor"):
            return self.toy(inputs, labels, mode)

    # a logger of its own: runners made within the same second would otherwise share the first one's log file
    return Runner(model=Model(), work_dir=str(work_dir), experiment_name=f"quiet-{work_dir.name}", **kwargs)


def _log(runner) -> str:
    return Path(runner.log_dir, f"{runner.timestamp}.log").read_text()


def test_a_cpu_run_reports_no_gpu_and_its_world_size(tmp_path):
    runner = _runner(tmp_path)
    gpus = 1 if torch.cuda.is_available() else 0
    assert f"GPU number: {gpus}\n" in _log(runner) and "World size: 1\n" in _log(runner)


def test_training_and_checkpoints_do_not_warn_about_file_client(tmp_path):
    runner = _runner(
        tmp_path,
        train_dataloader=dict(dataset=_Data(), sampler=dict(type="DefaultSampler", shuffle=False), batch_size=2),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1)),
    )
    runner.train()
    log = _log(runner)
    assert (tmp_path / "epoch_1.pth").is_file() and "Saving checkpoint at 1 epochs" in log
    assert '"FileClient" will be deprecated' not in log and '"HardDiskBackend" is the alias' not in log


def test_file_client_args_still_build_a_file_client(tmp_path):
    from mmengine.fileio import FileClient
    from mmengine.hooks import LoggerHook

    hook = LoggerHook(out_dir=str(tmp_path), file_client_args=dict(backend="disk"))
    assert isinstance(hook.file_client, FileClient) and hook.file_backend is hook.file_client


@pytest.mark.parametrize(("uri", "warns"), [("sqlite:///{dir}/mlflow.db", False), ("http://127.0.0.1:1", True)])
def test_mlflow_server_warning_only_for_a_server(tmp_path, monkeypatch, uri, warns):
    import mlflow
    from mmengine.logging import MMLogger
    from mmengine.visualization import MLflowVisBackend

    class Stop(Exception):
        """Stands in for the server round trip that follows the warning."""

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(mlflow, "get_experiment_by_name", stop)
    monkeypatch.setattr(mlflow, "set_tracking_uri", lambda uri: None)  # leave the process's tracking URI alone
    log_file = tmp_path / "run.log"
    logger = MMLogger.get_instance(f"mlflow-{warns}-{tmp_path.name}", log_file=str(log_file))
    with pytest.raises(Stop):
        MLflowVisBackend(save_dir=str(tmp_path / "vis"), tracking_uri=uri.format(dir=tmp_path))._init_env()
    for handler in logger.handlers:
        handler.flush()
    assert ("Please make sure that the mlflow server is running" in log_file.read_text()) is warns
