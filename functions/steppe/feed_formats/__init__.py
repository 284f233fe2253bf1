"""What a feed serves, written in the formats defenders' tools read: pure renderers, no I/O."""
