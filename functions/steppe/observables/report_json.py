"""An analyst's report of an attack in JSON: parsing and validation.

Pure functions, no I/O. Every bad input raises steppe.errors.InvalidInput with
a sentence saying what is wrong and `where` naming the field at fault; when
several observables are bad, the first MAX_LISTED_ERRORS are listed in
`errors`. Values are normalised on the way in (lower-case domains, canonical
IP text, upper-case country codes, lower-case hex hashes), and observables
repeated with the same type, value and role are merged into one (first_seen
the earliest, last_seen the latest).

JSON form (POST a JSON object)
------------------------------
    {
      "collection": "collection id or title (optional; default collection)",
      "tlp": "clear | green | amber | amber+strict | red   (default amber)",
      "confidence": 60,                       (0..100; default: the kind's)
      "title": "report name (optional)",
      "valid_until": "2009-03-01T00:00:00Z",  (optional; overrides the kind's validity)
      "override_false_positives": false,      (optional; publish values analysts
                                               declared false positives after all)
      "source": {"name": "IntelFusion", "url": "https://example.org/post"},
      "attack": {"kind": "ddos", "first_seen": "...", "last_seen": "...",
                 "description": "..."},
      "campaign": {"name": "...", "objective": "...", "description": "..."},
      "targets": [{"name": "...", "kind": "organization",
                   "sectors": ["telecommunications"], "country": "KG",
                   "description": "..."}],
      "attribution": {"name": "...", "kind": "intrusion-set", "country": "RU",
                      "confidence": 15, "description": "..."},
      "observables": [
        {"type": "ipv4-addr", "value": "198.51.100.7", "role": "source",
         "asn": 64500, "country": "RU", "first_seen": "...", "last_seen": "..."},
        {"type": "file", "hashes": {"SHA-256": "..."}},
        {"type": "file", "value": "<hex>", "hash_type": "MD5"}
      ]
    }

Only `attack.kind` and a non-empty `observables` are required. Unknown fields
are rejected (a typo would otherwise be silently dropped). Observable types:
ipv4-addr, ipv6-addr (an address or a CIDR block without host bits),
domain-name, url (scheme and host required), email-addr, file (hashes MD5,
SHA-1, SHA-256, SHA-512, SHA3-256, SHA3-512 as hex). Each attack kind accepts
some of them and names their roles (stix_templates/<kind>.yaml); an observable
without a role gets the kind's default role for its type. `asn` (a number or
"AS64500") applies to IP addresses only; `country` is an ISO 3166-1 alpha-2
code. Timestamps are RFC 3339 in UTC ("2009-01-18T00:00:00Z"), with an offset
("2009-01-18T06:00:00+06:00"), or a date alone ("2009-01-18", midnight UTC).

Malware and tools the attack used (optional; see steppe.observables.tool_fields):

      "malware": [{"name": "ExampleBot", "aliases": ["Example Bot"],
                   "types": ["bot", "ddos"], "samples": [{"SHA-256": "<hex>"}],
                   "c2": [{"type": "domain-name", "value": "c2.example.net"}],
                   "description": "..."}],
      "tools": [{"name": "...", "types": ["denial-of-service"]}]

`family` (a malware instance's family; is_family then defaults to false) and
`is_family` apply to malware only. A file observable with the role `sample`
(every kind has it) is a sample of the report's only malware, else of its only
tool.

Where errors point: JSON paths ("observables[12].value", "attack.kind",
"targets[0].sectors[1]", "malware[0].samples[2]", "body, line 3, column 7"
for malformed JSON).
"""

from __future__ import annotations

from dataclasses import replace

import orjson

from steppe.errors import InvalidInput
from steppe.observables.model import SubmissionRequest
from steppe.observables.observable_checks import OBSERVABLE_FIELDS, ObservableParser, too_many
from steppe.observables.report_fields import parse_report, with_observed
from steppe.observables.tool_fields import parse_tools, with_sample_observables
from steppe.stix import bounds
from steppe.templates.registry import TemplateRegistry


def _json_path(path: str) -> str:
    return path


def parse_json(
    body: bytes,
    registry: TemplateRegistry | None = None,
    *,
    max_observables: int = bounds.MAX_OBSERVABLES,
) -> SubmissionRequest:
    """Parse and validate a JSON submission (see the module docstring)."""
    registry = registry or TemplateRegistry.load()
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            where=f"body, line {exc.lineno}, column {exc.colno}",
        ) from None
    report, template = parse_report(doc, registry, _json_path)
    report = replace(report, tools=parse_tools(doc, _json_path))
    items = doc.get("observables")
    if items is None:
        raise InvalidInput(
            "observables is required: a list of the attack's IPs, domains, URLs...",
            where="observables",
        )
    if not isinstance(items, list):
        raise InvalidInput(
            f"observables must be a list, not {type(items).__name__}", where="observables"
        )
    if len(items) > max_observables:
        raise too_many(len(items), max_observables, "observables")
    parser = ObservableParser(template, _observable_where)
    allowed = OBSERVABLE_FIELDS
    for index, item in enumerate(items):
        if type(item) is not dict:
            parser.reject(index, None, "must be a JSON object")
        elif not allowed.issuperset(item):
            unknown = sorted(k for k in item if k not in allowed)[0]
            parser.reject(
                index,
                unknown,
                f"'{unknown}' is not a known field; expected one of: {', '.join(sorted(allowed))}",
            )
        else:
            parser.add(item, index)
    observables = parser.finish("observables", "give at least one in 'observables'")
    report = with_sample_observables(report, observables, "observables")
    return SubmissionRequest(with_observed(report, parser, "valid_until"), observables)


def _observable_where(index: int, field: str | None) -> str:
    return f"observables[{index}].{field}" if field else f"observables[{index}]"
