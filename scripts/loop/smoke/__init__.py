"""Smoke run of the built stack: import every fork, run two compiled mmcv ops (``python -m scripts.loop.smoke``)."""
