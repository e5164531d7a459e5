"""Deploy a trained model and prove it: export, parity, latency, INT8 (``python -m scripts.loop.deploy --help``)."""
