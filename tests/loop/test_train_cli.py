"""`nox -s train` (scripts.loop.train): bad input gets a paragraph, good input trains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mmlab_core.settings import REPO_ROOT

CONFIG = "configs/pointpillars_lidar-custom-3class.py"
# the same model family at a CPU size, where a test's point is the loop around training, not the model
CPU_CONFIG = "configs/pointpillars_lidar-custom-cpu.py"


def _train(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "scripts.loop.train", *args], cwd=REPO_ROOT, capture_output=True, text=True, env=env
    )


def test_missing_config_says_where_configs_live():
    result = _train("configs/nope.py")
    assert result.returncode == 2 and "the config configs/nope.py does not exist" in result.stderr


def test_missing_dataset_root_says_how_to_make_it(tmp_path):
    result = _train(CONFIG, env=dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "none")))
    assert result.returncode == 2
    assert (
        f"the dataset root {tmp_path}/none/synthetic/ (from train_dataloader.dataset.data_root) does not exist"
        in result.stderr
    )
    assert "scripts.data.synth_scenes" in result.stderr


def test_trains_one_epoch_into_the_checkpoints_workspace(datasets, tmp_path):
    env = dict(os.environ, MMLAB_DATASET_PATH=str(datasets), MMLAB_CHECKPOINTS_PATH=str(tmp_path / "ckpt"))
    result = _train(CONFIG, "--cfg-options", "train_cfg.max_epochs=1", "default_hooks.logger.interval=1", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    work = tmp_path / "ckpt" / "pointpillars_lidar-custom-3class"
    assert (work / "epoch_1.pth").exists()
    assert f"checkpoints and logs: {work}" in result.stdout
    assert "Epoch(train) [1][2/2]" in result.stdout  # one process: 4 frames, 2 per step
    # what a person does first to inspect it: a plain torch.load, in a Python that imports only torch
    inspect = (
        "import sys, torch; ck = torch.load(sys.argv[1], weights_only=True); "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('mmengine', 'mmdet3d', 'extensions')]; "
        "print(sorted(ck), ck['meta']['epoch'], len(ck['message_hub']['log_scalars']['train/loss']['log_history']))"
    )
    loaded = subprocess.run([sys.executable, "-c", inspect, str(work / "epoch_1.pth")], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.split("]")[0].startswith("['message_hub', 'meta', 'optimizer'")
    assert loaded.stdout.split("]", 1)[1].split() == ["1", "2"]  # epoch 1, two logged losses


def test_two_processes_on_cpu_share_the_epoch(datasets, tmp_path):
    """patches/mmengine/dist-runner-run-distributed-training-on-cpu-processes-gloo.patch"""
    env = dict(os.environ, MMLAB_DATASET_PATH=str(datasets))
    options = ["train_cfg.max_epochs=1", "default_hooks.logger.interval=1"]
    result = _train(CPU_CONFIG, "--nproc", "2", "--work-dir", str(tmp_path / "w"), "--cfg-options", *options, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "torchrun: 2 processes" in log and "2 process(es), dist backend gloo" in log
    assert "Warning" not in result.stderr, result.stderr[-3000:]  # known-harmless upstream warnings stay quiet
    assert "Epoch(train) [1][1/1]" in log and "[1][2/2]" not in log  # each process takes 2 of the 4 frames
    assert (tmp_path / "w" / "epoch_1.pth").exists()


def _wait_for(path, text: str, proc, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text(errors="replace")):
        assert proc.poll() is None, f"training exited ({proc.returncode}) before {text!r}: {path.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"no {text!r} in {timeout}s"
        time.sleep(0.2)


def test_training_killed_mid_epoch_resumes_from_its_last_checkpoint(datasets, tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    env = dict(os.environ, MMLAB_DATASET_PATH=str(datasets))
    work, log = tmp_path / "w", tmp_path / "first.log"
    options = ["train_cfg.max_epochs=3", "default_hooks.logger.interval=1"]
    args = [CPU_CONFIG, "--work-dir", str(work), "--cfg-options", *options]
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "scripts.loop.train", *args], cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)  # fmt: skip
        try:
            _wait_for(log, "Epoch(train) [2][1/2]", proc)  # epoch 1 saved, epoch 2 half done
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    latest = Path((work / "last_checkpoint").read_text().strip())
    assert latest.name == "epoch_1.pth" and not (work / "epoch_2.pth").exists()
    assert _load_checkpoint(str(latest), map_location="cpu")["meta"]["epoch"] == 1  # complete, not truncated

    result = _train(*args, "--resume", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Load checkpoint from {latest}" in result.stdout and "resumed epoch: 1, iter: 2" in result.stdout
    trained = [line for line in result.stdout.splitlines() if "Epoch(train)" in line]
    assert "[2][1/2]" in trained[0] and not any("Epoch(train) [1]" in line for line in trained)
    assert (work / "epoch_3.pth").exists()


def test_resume_from_a_checkpoint_that_runs_code_is_refused_with_a_paragraph(tmp_path):
    """patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch, at the CLI."""
    from tests.helpers.checkpoints import assert_refused, write_code_running_checkpoint

    (tmp_path / "datasets" / "synthetic").mkdir(parents=True)
    work, marker = tmp_path / "w", tmp_path / "payload-ran"
    work.mkdir()
    evil = write_code_running_checkpoint(work / "epoch_1.pth", marker)
    (work / "last_checkpoint").write_text(str(evil))
    env = dict(os.environ, MMLAB_DATASET_PATH=str(tmp_path / "datasets"))
    result = _train(CONFIG, "--work-dir", str(work), "--resume", env=env)
    assert_refused(result, evil, marker)
