"""An analyst's report of an attack and its observables, as steppe models them.

The forms a report comes in are parsed elsewhere (report_json, report_csv),
and stored by submission_codecs; these models are what they produce and read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from steppe.stix import tlp as tlp_levels


@dataclass(frozen=True, slots=True)
class Observable:
    """One observed value and the part it played.

    value: normalised text; None for files, which are known by `hashes`:
      (STIX hash name, lower-case hex) pairs sorted by name.
    role: always one of the kind's roles (the default one when none was given).
    first_seen / last_seen: epoch microseconds.
    """

    type: str
    value: str | None
    hashes: tuple[tuple[str, str], ...] = ()
    role: str = ""
    asn: int | None = None
    country: str | None = None
    first_seen: int | None = None
    last_seen: int | None = None


_SET_TYPE, _SET_VALUE, _SET_HASHES, _SET_ROLE, _SET_ASN, _SET_COUNTRY, _SET_FIRST, _SET_LAST = (
    getattr(Observable, f.name).__set__ for f in fields(Observable)
)


def make_observable(
    obs_type: str,
    value: str | None,
    hashes: tuple[tuple[str, str], ...],
    role: str,
    asn: int | None,
    country: str | None,
    first_seen: int | None,
    last_seen: int | None,
) -> Observable:
    """Observable(...) for already validated values, at half the cost.

    A frozen dataclass's __init__ goes through object.__setattr__ once per
    field (about 1.1 us here); writing the slot descriptors directly gives the
    same object for about 0.5 us, which matters at 100,000 observables.
    """
    obj = object.__new__(Observable)
    _SET_TYPE(obj, obs_type)
    _SET_VALUE(obj, value)
    _SET_HASHES(obj, hashes)
    _SET_ROLE(obj, role)
    _SET_ASN(obj, asn)
    _SET_COUNTRY(obj, country)
    _SET_FIRST(obj, first_seen)
    _SET_LAST(obj, last_seen)
    return obj


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    objective: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str = "organization"  # STIX identity_class
    sectors: tuple[str, ...] = ()
    country: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    name: str
    kind: str = "intrusion-set"
    country: str | None = None
    confidence: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """Malware or a tool the attack used, as the report names it.

    category: "malware" or "tool" (the STIX type it becomes).
    name: as submitted; steppe.observables.tool_names.family_key(name) identifies it.
    family: for a malware instance (is_family False), the name of its family, if known.
    types: STIX malware_types or tool_types (open vocabularies).
    samples: each sample's hashes, (STIX hash name, lower-case hex) pairs sorted by name.
    c2: (observable type, normalised value) of the servers it communicated with.
    """

    category: str
    name: str
    aliases: tuple[str, ...] = ()
    family: str | None = None
    is_family: bool = True
    types: tuple[str, ...] = ()
    samples: tuple[tuple[tuple[str, str], ...], ...] = ()
    c2: tuple[tuple[str, str], ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a submission says besides its observables.

    first_seen / last_seen: the attack window as submitted.
    observed_first / observed_last: the earliest and latest time given on any
      observable (None when none had a time); with the attack window they give
      the campaign its first_seen / last_seen.
    confidence: as submitted, else the kind's default.
    """

    kind: str
    tlp: tlp_levels.TlpLevel = tlp_levels.AMBER
    confidence: int = 50
    source: Source | None = None
    first_seen: int | None = None
    last_seen: int | None = None
    description: str | None = None
    campaign: Campaign | None = None
    targets: tuple[Target, ...] = ()
    attribution: Attribution | None = None
    collection: str | None = None
    valid_until: int | None = None
    title: str | None = None
    observed_first: int | None = None
    observed_last: int | None = None
    # Publish indicators of values analysts declared false positives (the analyst's say).
    override_false_positives: bool = False
    tools: tuple[Tool, ...] = ()  # malware and tools, in the order submitted

    def window(self) -> tuple[int | None, int | None]:
        """The earliest and latest instants the report knows of (attack and observables)."""
        firsts = [t for t in (self.first_seen, self.observed_first) if t is not None]
        lasts = [t for t in (self.last_seen, self.observed_last) if t is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)


@dataclass(frozen=True, slots=True)
class SubmissionRequest:
    report: Report
    observables: list[Observable]
