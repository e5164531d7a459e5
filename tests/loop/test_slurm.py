"""README's Slurm recipe, submitted with sbatch to a one-node Slurm cluster on
this machine (scripts/loop/slurm_local.py), trains one epoch and writes its
checkpoint. Skips, saying why, where the daemons cannot run."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import textwrap
import time

import pytest

from scripts.loop import slurm_local
from scripts.settings import REPO_ROOT

pytest.importorskip("torch", reason="needs the stack environment: run `nox -s test`")
pytestmark = [pytest.mark.stack, pytest.mark.slow]
RUNNING = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING"}


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
    """The recipe for one CPU node: no GPUs, one process, a short run, the work dir under work_root."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = "train_cfg.max_epochs=1 train_cfg.val_begin=2 default_hooks.logger.interval=1"
    changes = {
        "--nodes=2": "--nodes=1",
        " --gpus-per-node=8": "",
        "--cpus-per-task=32": f"--cpus-per-task={os.cpu_count()}",
        "--nproc-per-node=8": "--nproc-per-node=1",
        ":29500": f":{port}",
        '"checkpoints/$SLURM_JOB_ID"': f'"{work_root}/$SLURM_JOB_ID"',
        "--resume\n": f"--resume --cfg-options {options}\n",
    }
    for old, new in changes.items():
        assert recipe.count(old) == 1, f"README's Slurm recipe changed: expected one {old!r} in\n{recipe}"
        recipe = recipe.replace(old, new)
    return recipe


def _wait_for(job: str, env: dict, timeout: float = 600) -> str:
    """The job's final state (COMPLETED, FAILED, ...)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = subprocess.run(["scontrol", "-o", "show", "job", job], env=env, capture_output=True, text=True)
        state = re.search(r"JobState=(\S+)", shown.stdout)
        assert state, shown.stdout + shown.stderr
        if state.group(1) not in RUNNING:
            return state.group(1)
        assert time.monotonic() < deadline, f"job {job} still {state.group(1)} after {timeout:.0f} s"
        time.sleep(1)


def test_the_readme_recipe_trains_one_epoch_under_sbatch(cluster, datasets, tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    script = tmp_path / "train.sbatch"
    script.write_text(on_this_machine(readme_recipe(), str(tmp_path / "work")))
    env = dict(slurm_local.client_env(cluster), MMLAB_DATASET_PATH=str(datasets))
    output = tmp_path / "slurm-%j.out"
    submit = ["sbatch", "--parsable", f"--chdir={REPO_ROOT}", f"--output={output}", "--time=15", str(script)]
    job = subprocess.run(submit, env=env, capture_output=True, text=True, check=True).stdout.strip()

    state = _wait_for(job, env)
    log = (tmp_path / f"slurm-{job}.out").read_text()
    assert state == "COMPLETED", f"job {job} ended {state}:\n{log[-3000:]}"
    assert "Epoch(train) [1][2/2]" in log  # one process: 4 frames, 2 per step
    assert log.count("Saving checkpoint at 1 epochs") == 1
    work = tmp_path / "work" / job
    assert f"checkpoints and logs: {work}" in log
    latest = (work / "last_checkpoint").read_text().strip()
    assert latest == str(work / "epoch_1.pth")
    assert _load_checkpoint(latest, map_location="cpu")["meta"]["epoch"] == 1
