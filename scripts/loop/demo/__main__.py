"""``python -m scripts.loop.demo``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.demo.command import main

sys.exit(run(main))
