"""Benchmarks (`make bench`) and the synthetic corpus generator (`bench.synthetic`, also used by tests)."""
