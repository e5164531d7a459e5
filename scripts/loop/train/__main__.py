"""``python -m scripts.loop.train``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.train.command import main

sys.exit(run(main))
