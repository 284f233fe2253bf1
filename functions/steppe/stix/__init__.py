"""STIX 2.1 facts in one place: ids, timestamps, TLP 2.0 markings, patterns."""
