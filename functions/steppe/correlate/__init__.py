"""Correlation: the observable index, what it links, and lookups over it."""
