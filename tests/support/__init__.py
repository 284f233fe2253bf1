"""Helpers shared by the API, TAXII and end-to-end tests."""
