"""Evaluate a checkpoint: metrics table, JSON and BEV pictures (``python -m scripts.loop.evaluate --help``)."""
