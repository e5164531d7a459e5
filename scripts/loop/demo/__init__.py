"""The closed loop on generated data (``python -m scripts.loop.demo --help``)."""
