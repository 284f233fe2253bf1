"""TAXII query parameters: parsing, refusals that name the parameter, and the store query."""

import pytest

from steppe.errors import InvalidInput
from steppe.stix.timestamps import parse_micros
from steppe.store.port import ALL_VERSIONS, FIRST, LAST, VersionFilter
from steppe.taxii.filters import (
    MAX_IDS,
    MAX_PAGE,
    MAX_PAGE_BYTES,
    Endpoint,
    Filters,
    parse,
    parse_versions,
)

INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
CAMPAIGN = "campaign--9d3c4d9e-6a47-4a8c-9f0e-2d5f1c1b7a10"
T1 = "2009-01-18T00:00:00.000Z"
T2 = "2009-01-19T12:30:00.123456Z"


def test_no_parameters_mean_everything_latest_version_a_full_page():
    selection = parse({}, Endpoint.OBJECTS)
    assert selection.filters == Filters()
    assert selection.filters.versions == LAST
    assert selection.limit == MAX_PAGE
    assert selection.next is None
    assert selection.filters_given is False


def test_every_filter_of_the_objects_endpoint():
    selection = parse(
        {
            "added_after": ["2009-01-18T00:00:00.000001Z"],
            "limit": ["25"],
            "next": ["abc.def"],
            "match[id]": [f"{INDICATOR},{CAMPAIGN}"],
            "match[type]": ["indicator,campaign"],
            "match[version]": [f"first,{T2},last"],
            "match[spec_version]": ["2.1"],
        },
        Endpoint.OBJECTS,
    )
    assert selection.filters == Filters(
        added_after=parse_micros(T1) + 1,
        ids=frozenset({INDICATOR, CAMPAIGN}),
        types=frozenset({"indicator", "campaign"}),
        versions=VersionFilter(first=True, last=True, exact=frozenset({parse_micros(T2)})),
        spec_versions=frozenset({"2.1"}),
    )
    assert (selection.limit, selection.next, selection.filters_given) == (25, "abc.def", True)


def test_next_and_limit_alone_are_no_filters():
    selection = parse({"next": ["abc.def"], "limit": ["5"]}, Endpoint.MANIFEST)
    assert selection.filters_given is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("all", ALL_VERSIONS),
        ("first", FIRST),
        ("last", LAST),
        ("last,first", VersionFilter(first=True, last=True)),
        (T1, VersionFilter(exact=frozenset({parse_micros(T1)}))),
        (f"{T1},last", VersionFilter(last=True, exact=frozenset({parse_micros(T1)}))),
        (f"{T1},{T2}", VersionFilter(exact=frozenset({parse_micros(T1), parse_micros(T2)}))),
    ],
)
def test_version_filters_combine_as_section_3_4_1_allows(value, expected):
    assert parse_versions(value) == expected


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("all,last", "cannot combine 'all'"),
        ("first,first", "'first' twice"),
        (f"{T1},2009-01-18T00:00:00Z", "twice"),  # the same instant, written twice
        ("latest", "takes all, first, last or STIX timestamps"),
        ("2009-01-18", "takes all, first, last or STIX timestamps"),
        ("first,,last", "empty value"),
        ("first, last", "takes all, first, last"),
        ("", "empty value"),
    ],
)
def test_malformed_versions_are_refused_naming_the_parameter(value, said):
    with pytest.raises(InvalidInput) as refused:
        parse({"match[version]": [value]}, Endpoint.OBJECTS)
    assert refused.value.where == "match[version]"
    assert "match[version]" in refused.value.message
    assert said in refused.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("added_after", "yesterday"),
        ("added_after", "2009-01-18T00:00:00+01:00"),
        ("limit", "0"),
        ("limit", "-5"),
        ("limit", "ten"),
        ("limit", ""),
        ("limit", "\uff11\uff10"),  # fullwidth digits: digits to str.isdigit, not to TAXII
        ("match[id]", "indicator"),
        ("match[id]", "indicator--not-a-uuid"),
        ("match[type]", "Indicator"),
        ("match[type]", "indicator,"),
        ("match[type]", "attack pattern"),
        ("match[spec_version]", "latest"),
        ("next", ""),
    ],
)
def test_malformed_values_are_refused_naming_the_parameter(name, value):
    with pytest.raises(InvalidInput) as refused:
        parse({name: [value]}, Endpoint.OBJECTS)
    assert refused.value.where == name
    assert name in refused.value.message


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(InvalidInput) as refused:
        parse({"match[type]": ["indicator", "campaign"]}, Endpoint.OBJECTS)
    assert refused.value.where == "match[type]"
    assert "2 times" in refused.value.message


@pytest.mark.parametrize(
    ("endpoint", "name", "value"),
    [
        (Endpoint.OBJECT, "match[id]", INDICATOR),
        (Endpoint.OBJECT, "match[type]", "indicator"),
        (Endpoint.VERSIONS, "match[version]", "all"),
        (Endpoint.VERSIONS, "match[type]", "indicator"),
        (Endpoint.DELETE, "added_after", T1),
        (Endpoint.DELETE, "limit", "5"),
        (Endpoint.DELETE, "next", "x.y"),
    ],
)
def test_taxii_parameters_an_endpoint_does_not_take_are_refused(endpoint, name, value):
    with pytest.raises(InvalidInput) as refused:
        parse({name: [value]}, endpoint)
    assert refused.value.where == name
    assert f"not supported by the {endpoint.value} endpoint" in refused.value.message


def test_unknown_match_fields_and_other_parameters_are_ignored():
    selection = parse(
        {"match[created_by_ref]": ["identity--x"], "_": ["1700000000"]}, Endpoint.OBJECTS
    )
    assert selection.filters == Filters()


def test_limits_above_the_maximum_are_served_with_the_maximum():
    assert parse({"limit": ["1000000"]}, Endpoint.OBJECTS).limit == MAX_PAGE


def test_too_many_ids_are_refused():
    ids = ",".join(f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(MAX_IDS + 1))
    with pytest.raises(InvalidInput) as refused:
        parse({"match[id]": [ids]}, Endpoint.OBJECTS)
    assert refused.value.where == "match[id]"


def test_endpoint_defaults_for_versions():
    assert parse({}, Endpoint.OBJECT).filters.versions == LAST
    assert parse({}, Endpoint.VERSIONS).filters.versions == ALL_VERSIONS
    assert parse({}, Endpoint.DELETE).filters.versions == ALL_VERSIONS


def test_filters_map_onto_the_store_query():
    filters = parse(
        {
            "added_after": [T1],
            "match[type]": ["indicator"],
            "match[version]": ["first"],
            "match[spec_version]": ["2.1"],
        },
        Endpoint.OBJECTS,
    ).filters
    query = filters.query(max_tlp=1, after=parse_micros(T2), limit=10)
    assert query.added_after == parse_micros(T1)
    assert query.after == parse_micros(T2)
    assert query.types == frozenset({"indicator"})
    assert query.versions == FIRST
    assert query.spec_versions == frozenset({"2.1"})
    assert (query.max_tlp, query.limit, query.with_body) == (1, 10, True)
    assert query.max_bytes == MAX_PAGE_BYTES
    manifest = filters.query(max_tlp=2, with_body=False, object_id=INDICATOR)
    assert manifest.ids == frozenset({INDICATOR})
    assert (manifest.with_body, manifest.max_bytes) == (False, None)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(
            added_after=parse_micros(T1),
            ids=frozenset({INDICATOR, CAMPAIGN}),
            types=frozenset({"indicator"}),
            versions=VersionFilter(first=True, exact=frozenset({5, 7})),
            spec_versions=frozenset({"2.0", "2.1"}),
        ),
        Filters(versions=ALL_VERSIONS),
    ],
)
def test_filters_survive_the_token_form(filters):
    assert Filters.from_token(filters.to_token()) == filters
