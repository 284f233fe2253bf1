"""Benchmarks, run by `make bench`: they print figures next to a baseline from the same run."""
