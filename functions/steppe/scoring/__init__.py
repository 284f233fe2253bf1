"""Indicator scores that decay with time since last seen, and move with sightings (pure, no I/O)."""
