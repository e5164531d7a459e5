"""README's Slurm recipe, submitted with sbatch to a one-node Slurm cluster on
this machine (tests/helpers/slurm_local.py), trains an epoch and writes its
checkpoint; requeued, it goes on from that checkpoint. Skips, saying why, where
the daemons cannot run."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from mmlab_core.settings import REPO_ROOT
from tests.helpers import slurm_local

pytestmark = pytest.mark.slow
UNFINISHED = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The folder of a running one-node cluster; its daemons are stopped afterwards."""
    root = tmp_path_factory.mktemp("slurm")
    try:
        slurm_local.start(root)
    except slurm_local.SlurmUnavailable as exc:
        pytest.skip(f"no local Slurm: {exc}")
    try:
        yield root
    finally:
        slurm_local.stop(root)


def readme_recipe() -> str:
    """The sbatch script in README.md's Slurm paragraph."""
    readme = (REPO_ROOT / "README.md").read_text()
    found = re.search(r"```bash\n( *#!/bin/bash\n.*?)```", readme, re.S)
    assert found, "README.md has no ```bash block starting with #!/bin/bash (the Slurm recipe)"
    return textwrap.dedent(found.group(1))


def on_this_machine(recipe: str, work_root: str) -> str:
    """The recipe for one CPU node: no GPUs, one process, the CPU-sized model for three short epochs, the work
    dir under work_root."""
    from torch.distributed.elastic.utils.distributed import get_free_port

    options = "train_cfg.max_epochs=3 train_cfg.val_begin=4 train_dataloader.batch_size=2"
    changes = {
        "--nodes=2": "--nodes=1",
        " --gpus-per-node=8": "",
        "--cpus-per-task=32": f"--cpus-per-task={os.cpu_count()}",
        "--nproc-per-node=8": "--nproc-per-node=1",
        ":29500": f":{get_free_port()}",
        '"checkpoints/$SLURM_JOB_ID"': f'"{work_root}/$SLURM_JOB_ID"',
        "configs/pointpillars_lidar-custom-3class.py": "configs/pointpillars_lidar-custom-cpu.py",
        "--resume\n": f"--resume --cfg-options {options} default_hooks.logger.interval=1\n",
    }
    for old, new in changes.items():
        assert recipe.count(old) == 1, f"README's Slurm recipe changed: expected one {old!r} in\n{recipe}"
        recipe = recipe.replace(old, new)
    return recipe


def _state(job: str, env: dict) -> str:
    shown = subprocess.run(["scontrol", "-o", "show", "job", job], env=env, capture_output=True, text=True)
    state = re.search(r"JobState=(\S+)", shown.stdout)
    assert state, shown.stdout + shown.stderr
    return state.group(1)


def _wait_until(done, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s"
        time.sleep(0.2)


def test_the_readme_recipe_trains_under_sbatch_and_resumes_after_a_requeue(cluster, datasets, tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    script = tmp_path / "train.sbatch"
    script.write_text(on_this_machine(readme_recipe(), str(tmp_path / "work")))
    env = dict(slurm_local.client_env(cluster), MMLAB_DATASET_PATH=str(datasets))
    output = tmp_path / "slurm-%j.out"
    submit = ["sbatch", "--parsable", f"--chdir={REPO_ROOT}", f"--output={output}", "--time=20", str(script)]
    job = subprocess.run(submit, env=env, capture_output=True, text=True, check=True).stdout.strip()
    log, work = tmp_path / f"slurm-{job}.out", tmp_path / "work" / job

    def running_until_saved() -> bool:
        assert _state(job, env) in UNFINISHED, log.read_text()[-3000:] if log.exists() else "no output"
        return (work / "last_checkpoint").exists()

    # a checkpoint complete, later epochs to go: requeue, as a preemption with PreemptMode=REQUEUE does
    _wait_until(running_until_saved, "first checkpoint")
    subprocess.run(["scontrol", "requeue", job], env=env, check=True)
    _wait_until(lambda: _state(job, env) == "PENDING", "pending job after the requeue", timeout=120)
    saved = Path((work / "last_checkpoint").read_text().strip())  # the first run is gone: this is what it left
    assert saved.name in ("epoch_1.pth", "epoch_2.pth"), f"requeued too late: {saved}"
    epoch = int(saved.stem.removeprefix("epoch_"))
    # Slurm holds a requeued job back for a while; let it start now
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=env, check=True)
    _wait_until(lambda: _state(job, env) not in UNFINISHED, "end of the requeued job")

    text = log.read_text()  # both runs: the recipe appends (--open-mode=append)
    assert _state(job, env) == "COMPLETED", text[-3000:]
    first, _, second = text.partition("DUE TO JOB REQUEUE")
    assert "Epoch(train) [1][2/2]" in first and "Epoch(train) [3][2/2]" not in first  # 4 frames, 2 per step
    assert f"Load checkpoint from {saved}" in second and f"resumed epoch: {epoch}, iter: {2 * epoch}" in second
    trained = [line for line in second.splitlines() if "Epoch(train)" in line]
    assert trained and not any(f"Epoch(train) [{e}]" in line for line in trained for e in range(1, epoch + 1))
    assert "Epoch(train) [3][2/2]" in second and f"checkpoints and logs: {work}" in second
    latest = (work / "last_checkpoint").read_text().strip()
    assert latest == str(work / "epoch_3.pth")
    assert _load_checkpoint(latest, map_location="cpu")["meta"]["epoch"] == 3
