"""Benchmarks of labs against PyTorch; run ``python benchmarks/run.py`` (see README)."""
