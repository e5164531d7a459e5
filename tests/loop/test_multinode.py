"""Two nodes x one process: two torchrun agents meet at a c10d rendezvous on
127.0.0.1, as two machines of a cluster would, and train one shared epoch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mmlab_core.settings import REPO_ROOT

pytestmark = pytest.mark.slow
CONFIG = "configs/pointpillars_lidar-custom-cpu.py"


@pytest.mark.full  # CI: test_slurm.py (sbatch) and test_train_cli.py (two processes) launch the same runner
def test_two_nodes_meet_at_a_c10d_rendezvous_and_share_one_epoch(datasets, tmp_path):
    from torch.distributed.elastic.utils.distributed import get_free_port

    work = tmp_path / "work"
    node = [
        *(sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1"),
        *("--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{get_free_port()}", f"--rdzv-id={tmp_path.name}"),
        *("-m", "scripts.loop.train", CONFIG, "--work-dir", str(work)),
        *("--cfg-options", "train_cfg.max_epochs=1", "train_cfg.val_begin=2", "train_dataloader.batch_size=2"),
        "default_hooks.logger.interval=1",
    ]
    # one core per "node": the two share this machine's cores
    env = dict(os.environ, MMLAB_DATASET_PATH=str(datasets), OMP_NUM_THREADS="1")
    logs, agents = [tmp_path / "node0.log", tmp_path / "node1.log"], []
    for log in logs:
        with log.open("w") as out:
            agents.append(subprocess.Popen(node, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        codes = [agent.wait(timeout=300) for agent in agents]
    finally:
        for agent in agents:
            agent.kill()
    outputs = [log.read_text() for log in logs]
    assert codes == [0, 0], "\n\n".join(out[-3000:] for out in outputs)

    # rank 0 reports the run; mmengine prints nothing below error level on rank 1
    (chief,) = [out for out in outputs if "Epoch(train)" in out]
    assert "2 process(es), dist backend gloo" in chief  # the world size, from the Runner
    (full_log,) = work.glob("*/*.log")  # rank 0's
    assert "Distributed training: True" in full_log.read_text()
    # one shared epoch: 4 frames, 2 per step, 2 ranks -> 1 step each
    assert "Epoch(train) [1][1/1]" in chief and "[1][2/2]" not in chief
    assert chief.count("Saving checkpoint at 1 epochs") == 1
    assert sorted(p.name for p in work.glob("*.pth")) == ["epoch_1.pth"]
