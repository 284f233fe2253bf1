"""Test-only Lambda handlers and a SAM template declaring them, for the embedded runtime's tests."""
