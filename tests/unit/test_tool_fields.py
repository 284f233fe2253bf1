"""The malware and tools of a report in JSON and CSV (steppe.observables.tool_fields), accepted
and refused, and stored with the submission (submission_codecs)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.errors import InvalidInput
from steppe.observables.report_csv import parse_csv
from steppe.observables.report_json import parse_json
from steppe.observables.submission_codecs import report_from_dict, report_to_dict
from steppe.observables.tool_fields import MAX_C2, MAX_SAMPLES, MAX_TOOLS
from steppe.observables.tool_names import MAX_ALIASES, MAX_TOOL_NAME
from steppe.templates.registry import TemplateRegistry

REGISTRY = TemplateRegistry.load(Path(__file__).resolve().parents[2] / "stix_templates")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHA256 = "5e3d6a3b1c2f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
MD5 = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def bot_example() -> dict[str, Any]:
    return json.loads((EXAMPLES / "kyrgyzstan-2009.json").read_text())


def parse(doc: dict[str, Any]):
    return parse_json(json.dumps(doc).encode(), REGISTRY)


def refused(doc: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(doc)
    return caught.value


def with_malware(**entry: Any) -> dict[str, Any]:
    doc = bot_example()
    doc["malware"] = [{"name": "ExampleFlood", **entry}]
    return doc


def test_the_kyrgyzstan_bot_is_parsed_with_its_sample_observable_among_its_samples():
    request = parse(bot_example())
    [bot] = request.report.tools
    assert bot.category == "malware" and bot.name == "ExampleFlood" and bot.is_family
    assert bot.aliases == ("Example Flood bot",)
    assert bot.types == ("bot", "ddos")
    # the sample under the malware, then the `sample` file observable, which stays an observable
    assert bot.samples == ((("SHA-256", SHA256),), (("MD5", MD5),))
    assert bot.c2 == (("domain-name", "botnet-c2.example.net"), ("ipv4-addr", "203.0.113.5"))
    assert [o.role for o in request.observables if o.type == "file"] == ["sample"]


def test_a_ddos_file_without_a_role_is_a_sample_and_other_kinds_keep_their_defaults():
    doc = bot_example()
    doc["observables"] = [{"type": "file", "hashes": {"MD5": MD5}}]
    assert [o.role for o in parse(doc).observables] == ["sample"]
    for kind, role in (
        ("malware-c2", "payload"),
        ("phishing", "attachment"),
        ("scanning", "sample"),
    ):
        doc["attack"]["kind"] = kind
        assert [o.role for o in parse(doc).observables] == [role]
        doc["observables"][0]["role"] = "sample"  # every kind has the role
        assert [o.role for o in parse(doc).observables] == ["sample"]
        del doc["observables"][0]["role"]


def test_instances_families_and_tools():
    doc = bot_example()
    doc["malware"] = [{"name": "flood-2009a", "family": "ExampleFlood", "types": ["Bot"]}]
    doc["tools"] = [{"name": "Example Pinger", "types": ["denial of service"]}]
    instance, tool = parse(doc).report.tools
    assert (instance.is_family, instance.family, instance.types) == (
        False,
        "ExampleFlood",
        ("bot",),
    )
    # the sample observable belongs to the only malware, not the tool
    assert instance.samples == ((("MD5", MD5),),)
    assert (tool.category, tool.types, tool.samples) == ("tool", ("denial-of-service",), ())
    # with only a tool, the sample is the tool's; with two malware, nobody's
    del doc["malware"]
    assert parse(doc).report.tools[0].samples == ((("MD5", MD5),),)
    doc["malware"] = [{"name": "A"}, {"name": "B"}]
    assert all(t.samples == () for t in parse(doc).report.tools)


@pytest.mark.parametrize(
    ("entry", "where", "words"),
    [
        ({"name": "   "}, "malware[0].name", "required"),
        ({"name": "--"}, "malware[0].name", "no letter or digit"),
        ({"name": "x" * (MAX_TOOL_NAME + 1)}, "malware[0].name", "longer than"),
        ({"name": "A", "aliases": ["ok", 7]}, "malware[0].aliases[1]", "non-empty string"),
        ({"name": "A", "aliases": ["a"] * (MAX_ALIASES + 1)}, "malware[0].aliases", "at most"),
        ({"name": "A", "types": ["bot", "toaster"]}, "malware[0].types[1]", "malware-type-ov"),
        (
            {"name": "A", "samples": [{"MD5": MD5}, {"MD5": MD5}, {"SHA-256": "abc"}]},
            "malware[0].samples[2].SHA-256",
            "64 hex digits",
        ),
        (
            {"name": "A", "samples": [{"CRC32": "abcd"}]},
            "malware[0].samples[0].CRC32",
            "not a supported hash",
        ),
        ({"name": "A", "samples": [MD5]}, "malware[0].samples[0]", "object of its hashes"),
        (
            {"name": "A", "samples": [{"MD5": MD5}] * (MAX_SAMPLES + 1)},
            "malware[0].samples",
            "at most",
        ),
        (
            {"name": "A", "c2": [{"type": "email-addr", "value": "a@example.com"}]},
            "malware[0].c2[0].type",
            "not a C2 type",
        ),
        (
            {"name": "A", "c2": [{"type": "ipv4-addr", "value": "198.51.100.300"}]},
            "malware[0].c2[0].value",
            "",
        ),
        (
            {"name": "A", "c2": [{"type": "domain-name", "value": "x.example", "port": 1}]},
            "malware[0].c2[0].port",
            "not a known field",
        ),
        (
            {"name": "A", "c2": [{"type": "url", "value": "http://x.example/"}] * (MAX_C2 + 1)},
            "malware[0].c2",
            "at most",
        ),
        ({"name": "A", "family": "B", "is_family": True}, "malware[0].family", "instance"),
        ({"name": "A", "is_family": "yes"}, "malware[0].is_family", "true or false"),
        ({"name": "A", "kind": "bot"}, "malware[0].kind", "not a known field"),
    ],
)
def test_bad_malware_is_refused_where_it_is_wrong(entry, where, words):
    doc = bot_example()
    doc["malware"] = [{"name": "Fine"}, entry] if where.startswith("malware[1]") else [entry]
    error = refused(doc)
    assert error.where == where, error.message
    assert words in error.message


def test_bad_lists_and_tools_are_refused_where_they_are_wrong():
    doc = bot_example()
    doc["malware"] = [{"name": "BlackEnergy"}, {"name": "Black Energy"}]
    error = refused(doc)
    assert error.where == "malware[1].name" and "malware[0]" in error.message
    doc["malware"] = [{"name": f"m{i}"} for i in range(MAX_TOOLS + 1)]
    assert refused(doc).where == "malware"
    doc["malware"] = {"name": "x"}
    assert refused(doc).where == "malware"
    del doc["malware"]
    doc["tools"] = [{"name": "t", "family": "x"}]
    assert refused(doc).where == "tools[0].family"
    doc["tools"] = [{"name": "t", "types": ["bot"]}]
    assert "tool-type-ov" in refused(doc).message


def test_too_many_samples_with_the_sample_observables_is_refused():
    doc = bot_example()
    doc["malware"] = [
        {"name": "A", "samples": [{"SHA-256": f"{i:064x}"} for i in range(MAX_SAMPLES)]}
    ]
    error = refused(doc)  # the example's `sample` observable is one more
    assert error.where == "observables" and str(MAX_SAMPLES) in error.message


CSV_BODY = f"type,value,role\nipv4-addr,198.51.100.7,source\nfile,{MD5},sample\nfile,{SHA256},\n"


def test_a_ddos_csv_names_its_malware_and_tool_and_sample_rows_are_the_malwares():
    params = {
        "kind": "ddos",
        "malware": "flood-2009a",
        "malware_family": "ExampleFlood",
        "malware_aliases": "Flood 2009a, flood2009a",
        "malware_types": "bot,ddos",
        "tool": "Example Pinger",
        "tool_types": "denial-of-service",
    }
    request = parse_csv(CSV_BODY.encode(), params, REGISTRY)
    malware, tool = request.report.tools
    assert (malware.name, malware.family, malware.is_family) == (
        "flood-2009a",
        "ExampleFlood",
        False,
    )
    assert malware.aliases == ("Flood 2009a", "flood2009a")
    assert malware.samples == ((("MD5", MD5),), (("SHA-256", SHA256),))
    assert (tool.name, tool.types, tool.samples) == ("Example Pinger", ("denial-of-service",), ())
    assert [o.role for o in request.observables] == ["source", "sample", "sample"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"malware_types": "bot"}, "query parameter malware"),
        ({"malware": "A", "malware_types": "bot,toaster"}, "query parameter malware_types"),
        (
            {"malware": "A", "malware_aliases": ",".join("a" * 40)},
            "query parameter malware_aliases",
        ),
        ({"tool": "!!"}, "query parameter tool"),
        ({"tool": "T", "tool_types": "bot"}, "query parameter tool_types"),
        ({"malware_size": "3"}, "query parameter malware_size"),
    ],
)
def test_bad_csv_malware_parameters_are_refused_by_name(params, where):
    with pytest.raises(InvalidInput) as caught:
        parse_csv(CSV_BODY.encode(), {"kind": "ddos", **params}, REGISTRY)
    assert caught.value.where == where, caught.value.message
    assert where in caught.value.message


def test_a_bad_sample_row_is_named_by_its_row():
    body = CSV_BODY + "file,abc,sample\n"
    with pytest.raises(InvalidInput) as caught:
        parse_csv(body.encode(), {"kind": "ddos", "malware": "A"}, REGISTRY)
    assert caught.value.where == "row 5, column value"


def test_the_stored_submission_carries_the_tools():
    doc = bot_example()
    doc["tools"] = [
        {
            "name": "Example Pinger",
            "aliases": ["pinger"],
            "types": ["unknown"],
            "c2": [{"type": "url", "value": "http://c2.example.org/x"}],
        }
    ]
    doc["malware"].append({"name": "flood-2009a", "family": "ExampleFlood"})
    doc["malware"][0]["name"] = "ExampleFlood2"  # two malware: the sample row is nobody's
    report = parse(doc).report
    assert len(report.tools) == 3
    stored = json.loads(json.dumps(report_to_dict(report)))
    assert report_from_dict(stored) == report
    # what an older steppe stored (no tools) still reads
    older = copy.deepcopy(stored)
    del older["tools"]
    assert report_from_dict(older).tools == ()


@settings(max_examples=60)
@given(
    entry=st.dictionaries(
        st.sampled_from(["name", "aliases", "family", "is_family", "types", "samples", "c2"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    )
)
def test_any_malware_entry_is_accepted_or_refused_with_its_path(entry):
    doc = bot_example()
    doc["malware"] = [entry]
    try:
        request = parse(doc)
    except InvalidInput as error:
        assert error.where.startswith("malware"), (error.where, error.message)
    else:
        [tool] = request.report.tools
        assert tool.name == entry["name"].strip()
        assert report_from_dict(json.loads(json.dumps(report_to_dict(request.report)))) == (
            request.report
        )
