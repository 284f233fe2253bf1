"""An observable index as correlation leaves it, written through the store, for lookup tests.

Four campaigns of the Baltic-to-Central-Asia DDoS story, in documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32; AS64500):

* Kyrgyzstan, January 2009 (GREEN, default collection): 198.51.100.7 and
  198.51.100.23, a C2 domain and a dropper hash; a victim server 192.0.2.10.
* Georgia, August 2008 (GREEN, default collection, posted by a partner CERT):
  198.51.100.7 again, the network 203.0.113.0/24 and 2001:db8:4::/48.
* Estonia, 2007 (AMBER, default collection): 198.51.100.99 (Kyrgyzstan's /24,
  and its AS) and 192.0.2.101.
* An internal investigation (GREEN, in a collection only staff read):
  198.51.100.7 and 192.0.2.102.

Plus 192.0.2.1, seen outside any campaign and declared a false positive.
The links are those correlation records for them (both directions).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from steppe.access.collections import add_collection
from steppe.access.partners import add_partner
from steppe.stix.identities import org_identity_id
from steppe.stix.ids import value_sco_id
from steppe.stix.timestamps import parse_micros
from steppe.store.port import (
    CampaignLink,
    CampaignRecord,
    FalsePositive,
    GroupMember,
    IndexedValue,
)
from support.app import App

_NS = uuid.UUID("6f1c1bde-6b0e-4d55-9a43-2f3c5d1e0a77")

KG_NAME = "Kyrgyzstan ISP DDoS, January 2009"
GE_NAME = "Georgia DDoS, August 2008"
EE_NAME = "Estonia DDoS, April-May 2007"
RS_NAME = "Internal investigation 17"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PARTNER_CERT = "identity--" + str(uuid.uuid5(_NS, "cert-ge identity"))


def sid(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, name)}"


KG, GE, EE, RS = (sid("campaign", n) for n in ("kg", "ge", "ee", "rs"))


def t(text: str) -> int:
    return parse_micros(text)


@dataclass
class World:
    default: str
    restricted: str
    org: str
    green_partner: str  # keys
    green_analyst: str
    amber_partner: str


def seed(app: App) -> World:
    store = app.services.store
    settings = app.settings
    default = app.default_collection
    restricted = add_collection(store, settings.api_root, "internal investigations").id
    org = org_identity_id(settings.org_name)

    def occurrence(
        key: str,
        campaign: str | None,
        source: str,
        first: str,
        last: str,
        *,
        indicator: str | None = None,
        collection: str = default,
        tlp: int = 1,
        producer: str = org,
    ) -> IndexedValue:
        kind, _, value = key.partition(":")
        object_id = indicator or value_sco_id(kind, value)
        return IndexedValue(
            key, collection, object_id, campaign, source, producer, tlp, t(first), t(last)
        )

    kg_src, ge_src = "submission:sub-kg-2009", "taxii:status-ge-2008"
    ee_src, rs_src = "submission:sub-ee-2007", "submission:sub-rs-2010"
    store.index_values(
        [
            occurrence(
                "ipv4-addr:198.51.100.7",
                KG,
                kg_src,
                "2009-01-18T00:00:00Z",
                "2009-01-28T00:00:00Z",
                indicator=sid("indicator", "kg-7"),
            ),
            occurrence(
                "ipv4-addr:198.51.100.23",
                KG,
                kg_src,
                "2009-01-19T00:00:00Z",
                "2009-01-27T00:00:00Z",
                indicator=sid("indicator", "kg-23"),
            ),
            occurrence(
                "domain-name:ddos-c2.example.org",
                KG,
                kg_src,
                "2009-01-18T00:00:00Z",
                "2009-01-28T00:00:00Z",
                indicator=sid("indicator", "kg-c2"),
            ),
            occurrence(
                f"file:SHA-256:{SHA256}",
                KG,
                kg_src,
                "2009-01-17T00:00:00Z",
                "2009-01-17T00:00:00Z",
                indicator=sid("indicator", "kg-dropper"),
            ),
            occurrence(  # a victim: no indicator, the SCO itself
                "ipv4-addr:192.0.2.10", KG, kg_src, "2009-01-18T00:00:00Z", "2009-01-28T00:00:00Z"
            ),
            occurrence(
                "ipv4-addr:198.51.100.7",
                GE,
                ge_src,
                "2008-08-08T00:00:00Z",
                "2008-08-12T00:00:00Z",
                indicator=sid("indicator", "ge-7"),
                producer=PARTNER_CERT,
            ),
            occurrence(
                "ipv4-addr:203.0.113.0/24",
                GE,
                ge_src,
                "2008-08-08T00:00:00Z",
                "2008-08-11T00:00:00Z",
                indicator=sid("indicator", "ge-net"),
                producer=PARTNER_CERT,
            ),
            occurrence(
                "ipv6-addr:2001:db8:4::/48",
                GE,
                ge_src,
                "2008-08-09T00:00:00Z",
                "2008-08-10T00:00:00Z",
                indicator=sid("indicator", "ge-v6"),
                producer=PARTNER_CERT,
            ),
            occurrence(
                "ipv4-addr:198.51.100.99",
                EE,
                ee_src,
                "2007-04-27T00:00:00Z",
                "2007-05-18T00:00:00Z",
                indicator=sid("indicator", "ee-99"),
                tlp=2,
            ),
            occurrence(
                "ipv4-addr:192.0.2.101",
                EE,
                ee_src,
                "2007-04-27T00:00:00Z",
                "2007-05-01T00:00:00Z",
                indicator=sid("indicator", "ee-101"),
                tlp=2,
            ),
            occurrence(
                "ipv4-addr:198.51.100.7",
                RS,
                rs_src,
                "2010-03-01T00:00:00Z",
                "2010-03-02T00:00:00Z",
                indicator=sid("indicator", "rs-7"),
                collection=restricted,
            ),
            occurrence(
                "ipv4-addr:192.0.2.102",
                RS,
                rs_src,
                "2010-03-01T00:00:00Z",
                "2010-03-01T00:00:00Z",
                indicator=sid("indicator", "rs-102"),
                collection=restricted,
            ),
            occurrence(
                "ipv4-addr:192.0.2.1",
                None,
                "submission:sub-misc",
                "2011-06-01T00:00:00Z",
                "2011-06-01T00:00:00Z",
            ),
        ]
    )
    store.add_cidr_prefixes("ipv4-addr", [24])
    store.add_cidr_prefixes("ipv6-addr", [48])

    def members(group: str, campaign: str, keys: list[str], collection: str, tlp: int) -> list:
        return [GroupMember(group, campaign, collection, tlp, key) for key in keys]

    store.index_groups(
        members(
            "net:198.51.100.0/24",
            KG,
            ["ipv4-addr:198.51.100.7", "ipv4-addr:198.51.100.23"],
            default,
            1,
        )
        + members("net:198.51.100.0/24", GE, ["ipv4-addr:198.51.100.7"], default, 1)
        + members("net:198.51.100.0/24", EE, ["ipv4-addr:198.51.100.99"], default, 2)
        + members("net:198.51.100.0/24", RS, ["ipv4-addr:198.51.100.7"], restricted, 1)
        + members("net:203.0.113.0/24", GE, ["ipv4-addr:203.0.113.0/24"], default, 1)
        + members("net:2001:db8:4::/48", GE, ["ipv6-addr:2001:db8:4::/48"], default, 1)
        + members("net:192.0.2.0/24", EE, ["ipv4-addr:192.0.2.101"], default, 2)
        + members("net:192.0.2.0/24", RS, ["ipv4-addr:192.0.2.102"], restricted, 1)
        + members(
            "asn:64500", KG, ["ipv4-addr:198.51.100.7", "ipv4-addr:198.51.100.23"], default, 1
        )
        + members("asn:64500", EE, ["ipv4-addr:198.51.100.99"], default, 2)
    )

    now = t("2011-07-01T00:00:00Z")
    campaigns = [
        CampaignRecord(
            KG,
            KG_NAME,
            default,
            1,
            org,
            t("2009-01-17T00:00:00Z"),
            t("2009-01-28T00:00:00Z"),
            now,
            5,
            ("Kyrgyz ISP A", "Kyrgyz ISP B"),
        ),
        CampaignRecord(
            GE,
            GE_NAME,
            default,
            1,
            PARTNER_CERT,
            t("2008-08-08T00:00:00Z"),
            t("2008-08-12T00:00:00Z"),
            now,
            3,
            ("Georgian government portal",),
        ),
        CampaignRecord(
            EE,
            EE_NAME,
            default,
            2,
            org,
            t("2007-04-27T00:00:00Z"),
            t("2007-05-18T00:00:00Z"),
            now,
            2,
            ("Estonian government portal",),
        ),
        CampaignRecord(
            RS,
            RS_NAME,
            restricted,
            1,
            org,
            t("2010-03-01T00:00:00Z"),
            t("2010-03-02T00:00:00Z"),
            now,
            2,
        ),
    ]
    for record in campaigns:
        store.put_campaign(record)

    def link(a: str, b: str, strength: str, sample: tuple[str, ...], conf: int, tlp: int) -> None:
        """As correlation keeps it: the evidence set of every level from `tlp` up."""
        collections = tuple(sorted({default, restricted if RS in (a, b) else default}))
        relationship = sid("relationship", f"{min(a, b)} {max(a, b)} {strength}")
        store.put_campaign_links(
            [
                CampaignLink(
                    one,
                    other,
                    strength,  # type: ignore[arg-type]
                    len(sample),
                    sample,
                    conf,
                    relationship if len(collections) == 1 else "",
                    collections,
                    level,
                    now,
                )
                for one, other in ((a, b), (b, a))
                for level in range(tlp, 5)
            ]
        )

    link(KG, GE, "exact", ("ipv4-addr:198.51.100.7",), 61, 1)
    link(KG, EE, "network", ("net:198.51.100.0/24",), 19, 2)
    link(KG, EE, "asn", ("asn:64500",), 8, 2)
    link(KG, RS, "exact", ("ipv4-addr:198.51.100.7",), 61, 1)
    link(EE, RS, "network", ("net:192.0.2.0/24",), 19, 2)

    store.put_false_positive(
        FalsePositive("ipv4-addr:192.0.2.1", "our own monitoring host", "admin", now, (default,), 1)
    )

    def partner(name: str, role: str, clearance: str) -> str:
        issued = add_partner(
            store,
            name,
            role,
            org_name=settings.org_name,
            clearance=clearance,
            can_read=[default],
        )
        return issued.key

    return World(
        default=default,
        restricted=restricted,
        org=org,
        green_partner=partner("cert-green", "partner", "green"),
        green_analyst=partner("analyst-green", "analyst", "green"),
        amber_partner=partner("cert-amber", "partner", "amber"),
    )
