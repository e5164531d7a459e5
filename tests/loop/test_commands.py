"""Every command the sessions run starts and answers --help: a moved or renamed module fails here, not in
front of a user."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mmlab_core.settings import REPO_ROOT

COMMANDS = [
    "scripts.loop.train",
    "scripts.loop.evaluate",
    "scripts.loop.deploy",
    "scripts.loop.demo",
    "scripts.loop.infer",
    "scripts.loop.autolabel",
    "scripts.loop.zoo",
    "scripts.loop.gpu_check",
    "scripts.data.cli",
    "scripts.data.synth_scenes",
    "benchmarks",
    "scripts.stack.build",
    "scripts.stack.lock",
    "scripts.stack.patch_queue",
    "scripts.stack.rebase",
]


@pytest.mark.parametrize("module", COMMANDS)
def test_the_command_answers_help(module):
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage:" in done.stdout
