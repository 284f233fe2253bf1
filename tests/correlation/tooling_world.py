"""STIX bundles naming the tools of an attack, built by hand in the shape of the issue 12 contract.

Until the converter emits them, partners post these over TAXII: a campaign that
`uses` a malware (a family, or an instance that is a `variant-of` one), and the
malware's samples as file SCOs with indicators that `indicates` the malware
(not the campaign) and are `based-on` the SCO. Hashes are made up (documentation
values), addresses are RFC 5737.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from steppe.stix import tlp

# Three campaigns: A and B share only the BlackEnergy family (spelled differently, one
# through an alias); B and C share only a sample.
SAMPLE_A = "a1" * 32
SAMPLE_BC = "bc" * 32
SAMPLE_C_ONLY = "c0" * 32


def sid(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


@dataclass
class Bundle:
    """A partner's bundle, built one object at a time."""

    producer_name: str
    level: tlp.TlpLevel
    stamp: str = "2009-01-20T12:00:00.000Z"
    objects: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.producer = sid("identity")
        self.objects += [
            self.level.marking_definition(),
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": self.producer,
                "created": self.stamp,
                "modified": self.stamp,
                "name": self.producer_name,
                "identity_class": "organization",
            },
        ]

    def _sdo(self, stix_type: str, **properties: Any) -> dict[str, Any]:
        obj = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": sid(stix_type),
            "created_by_ref": self.producer,
            "created": self.stamp,
            "modified": self.stamp,
            **properties,
            "object_marking_refs": [self.level.marking_id],
        }
        self.objects.append(obj)
        return obj

    def relate(self, source: str, kind: str, target: str) -> dict[str, Any]:
        return self._sdo(
            "relationship", relationship_type=kind, source_ref=source, target_ref=target
        )

    def campaign(self, name: str, first_seen: str, last_seen: str) -> str:
        return self._sdo("campaign", name=name, first_seen=first_seen, last_seen=last_seen)["id"]

    def malware(self, name: str, *, family: bool = True, aliases: tuple[str, ...] = ()) -> str:
        extra: dict[str, Any] = {"aliases": list(aliases)} if aliases else {}
        obj = self._sdo(
            "malware", name=name, is_family=family, malware_types=["bot", "ddos"], **extra
        )
        return obj["id"]

    def tool(self, name: str) -> str:
        return self._sdo("tool", name=name, tool_types=["denial-of-service"])["id"]

    def sample(self, of: str, sha256: str) -> str:
        """A sample of malware `of`: its file SCO, and an indicator that `indicates` the malware."""
        sco = {
            "type": "file",
            "spec_version": "2.1",
            "id": f"file--{uuid.uuid5(uuid.NAMESPACE_URL, sha256)}",
            "hashes": {"SHA-256": sha256},
        }
        self.objects.append(sco)
        indicator = self._sdo(
            "indicator",
            name=f"sample {sha256[:8]}",
            indicator_types=["malicious-activity"],
            pattern=f"[file:hashes.'SHA-256' = '{sha256}']",
            pattern_type="stix",
            valid_from=self.stamp,
        )
        self.relate(indicator["id"], "indicates", of)
        self.relate(indicator["id"], "based-on", sco["id"])
        return indicator["id"]

    def address(self, campaign: str, address: str) -> str:
        """An attacker address that `indicates` the campaign."""
        indicator = self._sdo(
            "indicator",
            name=f"source {address}",
            indicator_types=["malicious-activity"],
            pattern=f"[ipv4-addr:value = '{address}']",
            pattern_type="stix",
            valid_from=self.stamp,
        )
        self.relate(indicator["id"], "indicates", campaign)
        return indicator["id"]

    def envelope(self) -> dict[str, Any]:
        return {"objects": self.objects}


@dataclass
class Story:
    """The three campaigns' bundles and the ids a test asks about."""

    bundles: dict[str, Bundle]
    campaigns: dict[str, str]
    malware: dict[str, str]


def three_campaigns(c_level: tlp.TlpLevel = tlp.GREEN) -> Story:
    """A: the BlackEnergy family, its own sample. B: an instance, a `variant-of` "Black Energy"
    (aliases "BE"), with the sample C also has. C: another family, "Dirt Jumper", with that
    sample and one of its own. Every campaign also has one address of its own."""
    a = Bundle("CERT-A (test)", tlp.GREEN)
    campaign_a = a.campaign("Campaign A, 2008", "2008-08-08T00:00:00Z", "2008-08-12T00:00:00Z")
    family_a = a.malware("BlackEnergy")
    a.relate(campaign_a, "uses", family_a)
    a.sample(family_a, SAMPLE_A)
    a.address(campaign_a, "192.0.2.11")

    b = Bundle("CERT-B (test)", tlp.GREEN)
    campaign_b = b.campaign("Campaign B, 2009", "2009-01-18T00:00:00Z", "2009-01-28T00:00:00Z")
    family_b = b.malware("BE", aliases=("Black Energy",))
    bot_b = b.malware("flood bot of B", family=False)
    b.relate(bot_b, "variant-of", family_b)
    b.relate(campaign_b, "uses", bot_b)
    b.sample(bot_b, SAMPLE_BC)
    b.address(campaign_b, "198.51.100.22")

    c = Bundle("CERT-C (test)", c_level)
    campaign_c = c.campaign("Campaign C, 2010", "2010-03-01T00:00:00Z", "2010-03-05T00:00:00Z")
    family_c = c.malware("Dirt Jumper")
    c.relate(campaign_c, "uses", family_c)
    c.sample(family_c, SAMPLE_BC)
    c.sample(family_c, SAMPLE_C_ONLY)
    c.address(campaign_c, "203.0.113.33")
    return Story(
        bundles={"a": a, "b": b, "c": c},
        campaigns={"a": campaign_a, "b": campaign_b, "c": campaign_c},
        malware={"a": family_a, "b_family": family_b, "b": bot_b, "c": family_c},
    )
