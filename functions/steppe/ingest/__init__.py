"""Analyst submissions: accepting a report, storing it as STIX (inline or in queued parts)."""
