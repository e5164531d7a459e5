"""``python -m scripts.loop.gpu_check``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.gpu_check.command import main

sys.exit(run(main))
