"""A checkpoint whose unpickling would run a shell command: what the weights-only
allow-list (patches/mmengine/checkpoint-load-with-weights-only-true-and-an-allow-list-of.patch)
must refuse."""

from __future__ import annotations

import os
from pathlib import Path


class RunsACommand:
    """Unpickled, this runs ``touch <marker>``: the marker's existence proves the payload ran."""

    def __init__(self, marker: str | Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_code_running_checkpoint(path: Path, marker: Path) -> Path:
    """An mmengine-shaped checkpoint (``state_dict``, ``meta``) whose ``meta`` runs a command."""
    import torch

    torch.save({"state_dict": {}, "meta": RunsACommand(marker)}, path)
    return path


def assert_refused(result, checkpoint: Path, marker: Path) -> None:
    """The command exited 2 with the refusal as one paragraph, no traceback, and the payload never ran."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-3000:]
    paragraph = next((line for line in result.stderr.splitlines() if line.startswith("error: ")), "")
    assert f"refused to load the checkpoint {checkpoint}: it holds `posix.system`" in paragraph, result.stderr
    assert "outside the allow-list" in paragraph and "could run arbitrary code" in paragraph
    assert "MMENGINE_TRUST_CHECKPOINTS=1" in paragraph
    assert "Traceback" not in result.stderr
    assert not marker.exists(), "the checkpoint's payload ran"
