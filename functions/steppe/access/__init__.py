"""Partners, credentials, collection ACLs, TLP clearance."""
