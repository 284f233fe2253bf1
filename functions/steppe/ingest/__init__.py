"""Observation models and their conversion to STIX through stix_templates/."""
