"""The GPU check: CUDA against the CPU, training, deploy and throughput in one report.

``python -m scripts.loop.gpu_check --help``.
"""
