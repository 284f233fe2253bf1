"""The TAXII 2.1 protocol: media types, filters, paging tokens, envelopes, errors."""
