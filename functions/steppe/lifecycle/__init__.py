"""The analyst side of the indicator lifecycle: revocation and false-positive values.

* steppe.lifecycle.revocation: the STIX of it (a revoked version, the note that
  says why, the successor id of a re-published indicator); pure functions.
* steppe.lifecycle.publishing: what ingest may publish (false-positive values
  are left out, revoked indicators are re-issued under a successor id).
* steppe.lifecycle.retraction: LifecycleService, what the API, the CLI and the
  worker call.
"""
