"""steppe."""
