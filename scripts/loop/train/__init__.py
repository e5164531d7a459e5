"""Train a model from a config, in one process or several (``python -m scripts.loop.train --help``)."""
