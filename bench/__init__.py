"""Benchmark scripts for the design's budgets. Run from the repository root: `python -m bench.link_latency`.

They print ratios against a baseline measured in the same run; they are not tests and assert nothing.
"""
