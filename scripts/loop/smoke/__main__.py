"""``python -m scripts.loop.smoke``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.smoke.command import main

sys.exit(run(main))
