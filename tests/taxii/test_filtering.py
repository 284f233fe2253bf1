"""TAXII filters over HTTP (sections 3.4, 3.4.1): what each selects, and malformed ones."""

import pytest
from taxii_world import CAMPAIGN, CERT_KG, DAY, HOUR, TAXII, Loaded, ids_of, objects_of

from steppe.stix.timestamps import format_stix


def test_match_type_selects_types_ored(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="objects/"), query={"match[type]": "campaign,relationship"}
    )
    assert ids_of(reply) == [loaded.relationship, CAMPAIGN]
    assert [o["modified"] for o in objects_of(reply) if o["type"] == "campaign"] == [
        format_stix(DAY + 3 * HOUR)
    ]


def test_match_id_selects_ids_ored(loaded: Loaded):
    world = loaded.world
    wanted = [loaded.green_indicators[1], CERT_KG]
    reply = world.get(world.collection_path(rest="objects/"), query={"match[id]": ",".join(wanted)})
    assert ids_of(reply) == [CERT_KG, loaded.green_indicators[1]]  # date_added order


def test_type_and_version_combine_with_and(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="objects/"),
        query={"match[type]": "campaign,indicator", "match[version]": "first"},
    )
    selected = objects_of(reply)
    # first is judged among all versions: the campaign's first, the mixed indicator's first.
    assert [o["modified"] for o in selected if o["id"] == CAMPAIGN] == [format_stix(DAY + HOUR)]
    mixed = [o for o in selected if o["id"] == loaded.mixed]
    assert [o["object_marking_refs"] for o in mixed] == [
        ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    ]
    assert {o["type"] for o in selected} == {"campaign", "indicator"}


def test_match_version_all_with_ids_and_types(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="manifest/"),
        query={
            "match[id]": f"{CAMPAIGN},{loaded.mixed}",
            "match[type]": "campaign",
            "match[version]": "all",
        },
    )
    assert [(r["id"], r["version"]) for r in reply.json()["objects"]] == [
        (CAMPAIGN, format_stix(DAY + h * HOUR)) for h in (1, 2, 3)
    ]


def test_match_version_exact_and_last_on_the_objects_endpoint(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="objects/"),
        query={"match[type]": "campaign", "match[version]": f"last,{format_stix(DAY + HOUR)}"},
    )
    assert [o["modified"] for o in objects_of(reply)] == [
        format_stix(DAY + HOUR),
        format_stix(DAY + 3 * HOUR),
    ]


@pytest.mark.parametrize(("spec", "expect_old"), [("2.0", True), ("2.1", False), ("2.0,2.1", True)])
def test_match_spec_version(loaded: Loaded, spec, expect_old):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), query={"match[spec_version]": spec})
    selected = ids_of(reply)
    assert (loaded.stix20 in selected) is expect_old
    assert (CAMPAIGN in selected) is ("2.1" in spec)


def test_added_after_is_exclusive(loaded: Loaded):
    world = loaded.world
    manifest = world.get(world.collection_path(rest="manifest/")).json()["objects"]
    cut = manifest[3]["date_added"]
    reply = world.get(world.collection_path(rest="objects/"), query={"added_after": cut})
    assert ids_of(reply) == [r["id"] for r in manifest[4:]]
    assert reply.header("X-TAXII-Date-Added-First") == manifest[4]["date_added"]


def test_versions_take_spec_version_and_added_after(loaded: Loaded):
    world = loaded.world
    path = world.collection_path(rest=f"objects/{CAMPAIGN}/versions/")
    everything = world.get(path)
    assert len(everything.json()["versions"]) == 3
    assert world.get(path, query={"match[spec_version]": "2.0"}).body == b"{}"
    manifest = world.get(
        world.collection_path(rest="manifest/"),
        query={"match[id]": CAMPAIGN, "match[version]": "all"},
    ).json()["objects"]
    later = world.get(path, query={"added_after": manifest[0]["date_added"]}).json()
    assert later["versions"] == [format_stix(DAY + 2 * HOUR), format_stix(DAY + 3 * HOUR)]


@pytest.mark.parametrize(
    ("rest", "query", "named"),
    [
        ("objects/", {"added_after": "last tuesday"}, "added_after"),
        ("objects/", {"limit": "0"}, "limit"),
        ("manifest/", {"limit": "many"}, "limit"),
        ("objects/", {"match[version]": "first,first"}, "match[version]"),
        ("objects/", {"match[version]": "all,last"}, "match[version]"),
        ("objects/", {"match[version]": "2009-02-30T00:00:00Z"}, "match[version]"),
        ("objects/", {"match[id]": "not-an-id"}, "match[id]"),
        ("objects/", {"match[type]": "Indicator"}, "match[type]"),
        ("objects/", {"match[spec_version]": "two"}, "match[spec_version]"),
        ("objects/", {"next": "forged.token"}, "next"),
        (f"objects/{CAMPAIGN}/", {"match[type]": "campaign"}, "match[type]"),
        (f"objects/{CAMPAIGN}/versions/", {"match[version]": "all"}, "match[version]"),
        (f"objects/{CAMPAIGN}/versions/", {"match[id]": CAMPAIGN}, "match[id]"),
    ],
)
def test_malformed_or_misplaced_parameters_are_400_naming_them(loaded: Loaded, rest, query, named):
    world = loaded.world
    reply = world.get(world.collection_path(rest=rest), query=query)
    assert reply.status == 400
    assert reply.header("Content-Type") == TAXII
    error = reply.json()
    assert error["http_status"] == "400"
    assert error["details"]["where"] == named
    assert named in error["description"]


def test_a_parameter_given_twice_is_400(loaded: Loaded):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest="objects/"),
        query=[("match[type]", "indicator"), ("match[type]", "campaign")],
    )
    assert reply.status == 400
    assert reply.json()["details"]["where"] == "match[type]"


def test_unknown_match_fields_are_ignored(loaded: Loaded):
    world = loaded.world
    plain = world.get(world.collection_path(rest="objects/"))
    extra = world.get(
        world.collection_path(rest="objects/"),
        query={"match[created_by_ref]": CERT_KG, "cache": "1"},
    )
    assert extra.body == plain.body
