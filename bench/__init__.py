"""Benchmarks (run as scripts; see docs/BENCHMARKS.md)."""
