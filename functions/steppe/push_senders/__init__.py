"""Senders that deliver STIX objects to push destinations (webhook, Microsoft Sentinel)."""
