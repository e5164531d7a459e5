"""Benchmarks of the product (not part of it): ``python -m benchmarks --help``; figures in docs/benchmarks.md."""
