"""``python -m scripts.loop.evaluate``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.evaluate.command import main

sys.exit(run(main))
