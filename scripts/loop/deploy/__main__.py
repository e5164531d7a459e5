"""``python -m scripts.loop.deploy``: ``command.main`` with the common exit contract."""

import sys

from mmlab_core.cli import run
from scripts.loop.deploy.command import main

sys.exit(run(main))
