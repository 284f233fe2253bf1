"""STIX 2.1 open vocabularies and ATT&CK tactic names steppe checks input against.

The lists are the values the STIX 2.1 specification suggests (section 10);
steppe accepts only these where analysts type them, so a typo is reported
instead of becoming a value no consumer recognises.
"""

from __future__ import annotations

INDUSTRY_SECTORS: frozenset[str] = frozenset(
    {
        "agriculture",
        "aerospace",
        "automotive",
        "chemical",
        "commercial",
        "communications",
        "construction",
        "defense",
        "education",
        "energy",
        "entertainment",
        "financial-services",
        "government",
        "emergency-services",
        "government-local",
        "government-national",
        "government-public-services",
        "government-regional",
        "healthcare",
        "hospitality-leisure",
        "infrastructure",
        "dams",
        "nuclear",
        "water",
        "insurance",
        "manufacturing",
        "mining",
        "non-profit",
        "pharmaceuticals",
        "retail",
        "technology",
        "telecommunications",
        "transportation",
        "utilities",
    }
)

IDENTITY_CLASSES: frozenset[str] = frozenset(
    {"individual", "group", "system", "organization", "class", "unknown"}
)

INDICATOR_TYPES: frozenset[str] = frozenset(
    {
        "anomalous-activity",
        "anonymization",
        "benign",
        "compromised",
        "malicious-activity",
        "attribution",
        "unknown",
    }
)

REPORT_TYPES: frozenset[str] = frozenset(
    {
        "attack-pattern",
        "campaign",
        "identity",
        "indicator",
        "intrusion-set",
        "malware",
        "observed-data",
        "threat-actor",
        "threat-report",
        "tool",
        "vulnerability",
    }
)

MALWARE_TYPES: frozenset[str] = frozenset(
    {
        "adware",
        "backdoor",
        "bot",
        "bootkit",
        "ddos",
        "downloader",
        "dropper",
        "exploit-kit",
        "keylogger",
        "ransomware",
        "remote-access-trojan",
        "resource-exploitation",
        "rogue-security-software",
        "rootkit",
        "screen-capture",
        "spyware",
        "trojan",
        "unknown",
        "virus",
        "webshell",
        "wiper",
        "worm",
    }
)

TOOL_TYPES: frozenset[str] = frozenset(
    {
        "denial-of-service",
        "exploitation",
        "information-gathering",
        "network-capture",
        "credential-exploitation",
        "remote-access",
        "vulnerability-scanning",
        "unknown",
    }
)

# The kill chain name MITRE ATT&CK uses in STIX, and its Enterprise tactics'
# short names (the phase_name values).
MITRE_ATTACK_KILL_CHAIN = "mitre-attack"
ATTACK_TACTICS: frozenset[str] = frozenset(
    {
        "reconnaissance",
        "resource-development",
        "initial-access",
        "execution",
        "persistence",
        "privilege-escalation",
        "defense-evasion",
        "credential-access",
        "discovery",
        "lateral-movement",
        "collection",
        "command-and-control",
        "exfiltration",
        "impact",
    }
)
