"""Every checkov check template.yaml skips is skipped on one resource, with its reason.

`make lint` runs checkov on the template; a skip lives in the resource's
Metadata (checkov's form for CloudFormation) and names the check and why it
does not apply there.
"""

from __future__ import annotations

import re
from pathlib import Path

from steppe.local.routes import load_template

RESOURCES = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]


def _skips() -> list[tuple[str, dict]]:
    return [
        (name, skip)
        for name, resource in RESOURCES.items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]


def test_each_skipped_check_names_a_check_and_says_why():
    skips = _skips()
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 8, (name, skip)


def test_a_check_is_skipped_at_most_once_per_resource():
    pairs = [(name, skip["id"]) for name, skip in _skips()]
    assert len(pairs) == len(set(pairs))


def test_what_the_template_must_have_is_never_skipped():
    # Encryption of the bucket, point-in-time recovery, log retention, tracing and
    # the queue's dead-letter queue are fixed in the template, not skipped.
    must_pass = {"CKV_AWS_19", "CKV_AWS_28", "CKV_AWS_66", "CKV_AWS_45", "CKV_AWS_50", "CKV_AWS_73"}
    assert not {skip["id"] for _, skip in _skips()} & must_pass
