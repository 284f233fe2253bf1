"""An analyst's report of an attack in CSV: parsing and validation.

Pure functions, no I/O. Every bad input raises steppe.errors.InvalidInput with
a sentence saying what is wrong and `where` naming the row, column or query
parameter at fault; when several observables are bad, the first
MAX_LISTED_ERRORS are listed in `errors`. Values are checked and normalised as
in the JSON form (report_json), whose fields the query parameters fill.

CSV form (POST text/csv; report fields as query parameters)
-----------------------------------------------------------
The first row is the header; column names are case-insensitive, in any order.
For example, POST .../submissions?kind=malware-c2&tlp=green&campaign=Example:

    type,value,role,asn,country,first_seen,last_seen,hash_type
    ipv4-addr,198.51.100.7,c2,64500,RU,2009-01-18T00:00:00Z,2009-01-20T00:00:00Z,
    domain-name,update.example.net,c2,,,2009-01-18,,
    file,44d88612fea8a8f36de82e1278abb02f,payload,,,,,MD5

`type` and `value` are required columns; `role`, `asn`, `country`,
`first_seen`, `last_seen` and `hash_type` are optional columns, and an empty
cell means "not given". For files `value` is the hex hash and `hash_type` its
algorithm, inferred from the length when absent (32 MD5, 40 SHA-1, 64 SHA-256,
128 SHA-512). Blank lines are skipped; a row may have fewer cells than the
header (the missing ones are empty) but not more. A row is named by the line
of the file it starts on, the header being row 1 ("row 14, column country").

Query parameters (all optional except kind; unknown ones are rejected):
kind, tlp, confidence, collection, title, valid_until, first_seen, last_seen,
description (the attack's), campaign (its name), objective, source_name,
source_url, target (one target's name), target_kind, target_country,
target_sector (comma-separated), attribution (the intrusion set's name),
attribution_country, attribution_confidence, override_false_positives
(true or false); the malware and the tool the attack used (one of each, see
steppe.observables.tool_fields): malware (its name), malware_family (the family
of that malware instance), malware_aliases and malware_types (comma-separated),
malware_description, tool, tool_aliases, tool_types, tool_description.

A file row with the role `sample` (every kind has it; the default role of a
file in most kinds) is a sample of the named malware, else of the named tool:

    POST .../submissions?kind=ddos&malware=ExampleBot&malware_types=bot,ddos
    type,value,role
    ipv4-addr,198.51.100.7,source
    file,<64 hex digits>,sample

Where errors point: "header, column value", "row 14, column country", "row 9"
(a row with too many cells) and "query parameter tlp".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import replace

from steppe.errors import InvalidInput
from steppe.observables.model import SubmissionRequest
from steppe.observables.observable_checks import ObservableParser, too_many
from steppe.observables.report_fields import parse_report, with_observed
from steppe.observables.report_query import parameter_name, report_document
from steppe.observables.tool_fields import parse_tools, with_sample_observables
from steppe.stix import bounds
from steppe.templates.registry import TemplateRegistry

CSV_COLUMNS = frozenset(
    {"type", "value", "role", "asn", "country", "first_seen", "last_seen", "hash_type"}
)
_CSV_REQUIRED = ("type", "value")


def parse_csv(
    body: bytes,
    params: Mapping[str, str],
    registry: TemplateRegistry | None = None,
    *,
    max_observables: int = bounds.MAX_OBSERVABLES,
) -> SubmissionRequest:
    """Parse and validate a CSV submission (see the module docstring)."""
    registry = registry or TemplateRegistry.load()
    if "kind" not in params:
        raise InvalidInput(
            "query parameter kind is required: say what kind of attack this is "
            f"({', '.join(registry.kinds())})",
            where="query parameter kind",
        )
    doc = report_document(params)
    report, template = parse_report(doc, registry, parameter_name)
    report = replace(report, tools=parse_tools(doc, parameter_name))
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The CSV is not UTF-8 text (bad byte at offset {exc.start})", where="body"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise InvalidInput(
                "The CSV is empty; it needs a header row (type,value,...) and observables",
                where="header",
            )
        columns = _csv_columns(header, reader.line_num)
        parser = ObservableParser(template, _csv_where)
        width = len(columns)
        end = reader.line_num  # rows are named by the line they start on
        rows = 0
        for row in reader:
            line, end = end + 1, reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            rows += 1
            if rows > max_observables:
                raise too_many(max_observables, max_observables, "body")
            if len(row) > width:
                parser.reject(
                    line, None, f"the row has {len(row)} cells but the header has {width} columns"
                )
                continue
            item = {}
            for column, cell in zip(columns, row, strict=False):
                cell = cell.strip()
                if cell:
                    item[column] = cell
            parser.add(item, line)
    except csv.Error as exc:
        raise InvalidInput(
            f"The CSV is malformed at row {reader.line_num}: {exc}", where=f"row {reader.line_num}"
        ) from None
    observables = parser.finish("body", "the CSV needs at least one row after the header")
    report = with_sample_observables(report, observables, "body")
    return SubmissionRequest(
        with_observed(report, parser, "query parameter valid_until"), observables
    )


def _csv_columns(header: Sequence[str], line: int) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    for position, column in enumerate(columns, start=1):
        if column not in CSV_COLUMNS:
            raise InvalidInput(
                f"The CSV header has an unknown column '{header[position - 1]}' (column "
                f"{position}); known columns: {', '.join(sorted(CSV_COLUMNS))}",
                where=f"header, column {header[position - 1].strip() or position}",
            )
        if columns.count(column) > 1:
            raise InvalidInput(
                f"The CSV header names column '{column}' twice", where=f"header, column {column}"
            )
    for required in _CSV_REQUIRED:
        if required not in columns:
            raise InvalidInput(
                f"The CSV header (row {line}) lacks the required column '{required}'; "
                "it needs at least: type,value",
                where=f"header, column {required}",
            )
    return columns


def _csv_where(line: int, field: str | None) -> str:
    if field is None:
        return f"row {line}"
    column = field.split(".", 1)[0]
    return f"row {line}, column {'value' if column == 'hashes' else column}"
