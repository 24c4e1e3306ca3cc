"""The pieces of `make bench` (bench/run_bench.py): data, warehouse, nights, floors, results.

Kept as a package beside the script so tests/test_bench_smoke.py can run each piece on a tiny
input without running the whole national benchmark.
"""
