"""Synthetic county submissions for the demo, the tests and the benchmark.

Not part of the product: nothing in `edustat` imports it at module level; the CLI's `generate`
and `demo` commands load it when they run.
"""
