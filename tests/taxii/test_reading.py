"""Every read endpoint of TAXII 2.1 (sections 4 and 5), on both shapes."""

import re
from urllib.parse import urlsplit

import orjson
import pytest
from taxii_world import CAMPAIGN, DAY, HOUR, TAXII, Loaded, ids_of, objects_of

from steppe.stix.timestamps import format_stix, format_taxii, parse_micros

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def latest_versions(objects: list[dict]) -> list[dict]:
    """What match[version]=last returns: each object's latest version, in date_added order."""
    latest: dict[str, dict] = {}
    for obj in objects:
        current = latest.get(obj["id"])
        if current is None or obj.get("modified", "") >= current.get("modified", ""):
            latest[obj["id"]] = obj
    return [obj for obj in objects if latest[obj["id"]] is obj]


# -- server information ------------------------------------------------------------------


def test_discovery_advertises_the_api_root_with_absolute_urls(loaded: Loaded):
    reply = loaded.world.get("/taxii2/", headers={"Host": "taxii.cert.example.kg"})
    assert reply.status == 200
    assert reply.header("Content-Type") == TAXII
    discovery = reply.json()
    assert discovery["title"]
    assert discovery["api_roots"] == ["http://taxii.cert.example.kg/taxii2/steppe/"]
    assert discovery["default"] == "http://taxii.cert.example.kg/taxii2/steppe/"


def test_discovery_through_an_execute_api_url_keeps_the_stage_and_the_urls_work(loaded: Loaded):
    host = "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com"
    reply = loaded.world.get("/v1/taxii2/", headers={"Host": host})
    assert reply.status == 200
    (root_url,) = reply.json()["api_roots"]
    assert root_url == f"http://{host}/v1/taxii2/steppe/"
    followed = loaded.world.get(urlsplit(root_url).path, headers={"Host": host})
    assert followed.status == 200
    assert followed.json()["versions"] == [TAXII]


def test_discovery_and_every_endpoint_match_without_the_trailing_slash(loaded: Loaded):
    world = loaded.world
    for path in (
        "/taxii2",
        "/taxii2/steppe",
        "/taxii2/steppe/collections",
        world.collection_path().rstrip("/"),
        world.collection_path(rest="objects"),
        world.collection_path(rest="manifest"),
        world.collection_path(rest=f"objects/{CAMPAIGN}"),
        world.collection_path(rest=f"objects/{CAMPAIGN}/versions"),
    ):
        reply = world.get(path)
        assert reply.status == 200, (path, reply.body)
        assert reply.header("Content-Type") == TAXII


def test_the_api_root_says_what_it_speaks_and_accepts(loaded: Loaded):
    reply = loaded.world.get("/taxii2/steppe/")
    root = reply.json()
    assert root["title"] == "steppe indicator sharing"
    assert root["versions"] == [TAXII]
    assert root["max_content_length"] == loaded.world.app.settings.max_body_bytes
    assert reply.header("X-TAXII-Date-Added-First") is None


@pytest.mark.parametrize(
    "path",
    [
        "/taxii2/elsewhere/",
        "/taxii2/elsewhere/collections/",
        "/taxii2/elsewhere/status/2d086da7-4bdc-4f91-900e-d77486753710/",
    ],
)
def test_an_unknown_api_root_is_404(loaded: Loaded, path):
    reply = loaded.world.get(path)
    assert reply.status == 404
    assert reply.header("Content-Type") == TAXII
    assert reply.json()["http_status"] == "404"
    assert "elsewhere" in reply.json()["description"]


# -- collections -------------------------------------------------------------------------


def _collections(loaded: Loaded, who: str) -> dict[str, dict]:
    reply = loaded.world.get("/taxii2/steppe/collections/", who)
    assert reply.status == 200
    return {c["title"]: c for c in reply.json().get("collections", [])}


def test_admins_see_every_collection(loaded: Loaded):
    shown = _collections(loaded, "admin")
    assert set(shown) == {"steppe indicators", "Kyrgyzstan DDoS 2009", "CERT-KG internal"}
    assert all(c["can_read"] and c["can_write"] for c in shown.values())
    shared = shown["Kyrgyzstan DDoS 2009"]
    assert shared == {
        "id": loaded.world.shared,
        "title": "Kyrgyzstan DDoS 2009",
        "description": "Kyrgyzstan DDoS 2009 (tests)",
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
    }


@pytest.mark.parametrize(
    ("who", "can_read", "can_write"),
    [
        ("kg-green", True, False),
        ("kg-amber", True, True),
        ("drop-box", False, True),
        ("kg-clear", True, False),
    ],
)
def test_partners_see_only_their_collections_and_their_own_rights(
    loaded: Loaded, who, can_read, can_write
):
    shown = _collections(loaded, who)
    assert list(shown) == ["Kyrgyzstan DDoS 2009"]
    assert (
        shown["Kyrgyzstan DDoS 2009"]["can_read"],
        shown["Kyrgyzstan DDoS 2009"]["can_write"],
    ) == (
        can_read,
        can_write,
    )
    one = loaded.world.get(loaded.world.collection_path(), who).json()
    assert (one["can_read"], one["can_write"]) == (can_read, can_write)


def test_a_partner_without_collections_gets_an_empty_resource(loaded: Loaded):
    world = loaded.world
    if "no-access" not in world.keys:
        world.partner("no-access", "green")
    reply = world.get("/taxii2/steppe/collections/", "no-access")
    assert (reply.status, reply.body) == (200, b"{}")


@pytest.mark.parametrize("collection", ["private", "unknown"], ids=["invisible", "nonexistent"])
def test_a_collection_the_caller_cannot_use_is_not_found(loaded: Loaded, collection):
    world = loaded.world
    target = world.private if collection == "private" else "7b9d1c3e-2f4a-4b5c-8d6e-9f0a1b2c3d4e"
    for rest in (
        "",
        "objects/",
        "manifest/",
        f"objects/{CAMPAIGN}/",
        f"objects/{CAMPAIGN}/versions/",
    ):
        reply = world.get(world.collection_path(target, rest), "kg-green")
        assert reply.status == 404, rest
        assert reply.header("Content-Type") == TAXII
        assert target in reply.json()["description"]


# -- objects -----------------------------------------------------------------------------


def test_objects_are_the_latest_versions_in_date_added_order_byte_for_byte(loaded: Loaded):
    reply = loaded.world.get(loaded.world.collection_path(rest="objects/"))
    expected = latest_versions(loaded.objects)
    assert objects_of(reply) == expected
    assert reply.body == (
        b'{"more":false,"objects":[' + b",".join(orjson.dumps(o) for o in expected) + b"]}"
    )


def test_object_date_added_headers_are_those_of_the_first_and_last_object(loaded: Loaded):
    world = loaded.world
    manifest = world.get(world.collection_path(rest="manifest/")).json()["objects"]
    reply = world.get(world.collection_path(rest="objects/"))
    assert [o["id"] for o in manifest] == ids_of(reply)
    assert reply.header("X-TAXII-Date-Added-First") == manifest[0]["date_added"]
    assert reply.header("X-TAXII-Date-Added-Last") == manifest[-1]["date_added"]
    assert MICROSECONDS.match(reply.header("X-TAXII-Date-Added-Last"))


def test_manifest_records_describe_each_version(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest="manifest/"), query={"match[version]": "all"})
    records = reply.json()["objects"]
    assert [r["id"] for r in records] == [o["id"] for o in loaded.objects]
    for record, obj in zip(records, loaded.objects, strict=True):
        assert set(record) == {"id", "date_added", "version", "media_type"}
        assert MICROSECONDS.match(record["date_added"])
        if "modified" in obj:
            assert record["version"] == format_stix(parse_micros(obj["modified"]))
        spec = obj.get("spec_version", "2.0" if "created" in obj else "2.1")
        assert record["media_type"] == f"application/stix+json;version={spec}"
    added = [parse_micros(r["date_added"]) for r in records]
    assert added == sorted(added) and len(set(added)) == len(added)
    assert reply.header("X-TAXII-Date-Added-First") == records[0]["date_added"]
    assert reply.header("X-TAXII-Date-Added-Last") == records[-1]["date_added"]


def test_get_an_object_returns_its_latest_version(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest=f"objects/{CAMPAIGN}/"))
    (campaign,) = objects_of(reply)
    assert campaign["modified"] == format_stix(DAY + 3 * HOUR)
    assert reply.header("X-TAXII-Date-Added-First") == reply.header("X-TAXII-Date-Added-Last")
    assert MICROSECONDS.match(reply.header("X-TAXII-Date-Added-First"))


@pytest.mark.parametrize(
    ("versions", "hours"),
    [
        ("all", [1, 2, 3]),
        ("first", [1]),
        ("last", [3]),
        ("first,last", [1, 3]),
        (format_stix(DAY + 2 * HOUR), [2]),
        (f"{format_stix(DAY + 2 * HOUR)},last", [2, 3]),
        (f"first,{format_stix(DAY + 2 * HOUR)}", [1, 2]),
        ("2009-01-18T02:00:00Z", [2]),  # the same instant in another precision
    ],
)
def test_get_an_object_in_the_versions_asked_for(loaded: Loaded, versions, hours):
    world = loaded.world
    reply = world.get(
        world.collection_path(rest=f"objects/{CAMPAIGN}/"), query={"match[version]": versions}
    )
    assert [o["modified"] for o in objects_of(reply)] == [
        format_stix(DAY + h * HOUR) for h in hours
    ]


def test_an_object_that_does_not_exist_is_404(loaded: Loaded):
    world = loaded.world
    missing = "indicator--00000000-0000-4000-8000-000000000000"
    for rest in (f"objects/{missing}/", f"objects/{missing}/versions/"):
        reply = world.get(world.collection_path(rest=rest))
        assert reply.status == 404
        assert missing in reply.json()["description"]


def test_versions_lists_every_version_of_an_object(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest=f"objects/{CAMPAIGN}/versions/"))
    assert reply.json() == {
        "more": False,
        "versions": [format_stix(DAY + h * HOUR) for h in (1, 2, 3)],
    }
    manifest = world.get(
        world.collection_path(rest="manifest/"),
        query={"match[id]": CAMPAIGN, "match[version]": "all"},
    ).json()["objects"]
    assert reply.header("X-TAXII-Date-Added-First") == manifest[0]["date_added"]
    assert reply.header("X-TAXII-Date-Added-Last") == manifest[-1]["date_added"]


def test_an_unversioned_object_has_a_version_consistent_to_the_server(loaded: Loaded):
    world = loaded.world
    versions = world.get(world.collection_path(rest=f"objects/{loaded.sco}/versions/")).json()
    (manifest,) = world.get(
        world.collection_path(rest="manifest/"), query={"match[id]": loaded.sco}
    ).json()["objects"]
    assert versions["versions"] == [manifest["version"]]
    # Its version is when it was first added.
    assert parse_micros(manifest["version"]) == parse_micros(manifest["date_added"])


# -- empty results -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "rest", ["objects/", "manifest/", f"objects/{CAMPAIGN}/", f"objects/{CAMPAIGN}/versions/"]
)
def test_an_empty_result_after_added_after_is_empty_and_keeps_the_place(loaded: Loaded, rest):
    world = loaded.world
    later = "2100-01-01T00:00:00.5Z"
    reply = world.get(world.collection_path(rest=rest), query={"added_after": later})
    assert (reply.status, reply.body) == (200, b"{}")
    assert reply.header("X-TAXII-Date-Added-First") == format_taxii(parse_micros(later))
    assert reply.header("X-TAXII-Date-Added-Last") == "2100-01-01T00:00:00.500000Z"


def test_an_empty_result_without_a_starting_point_has_no_date_headers(loaded: Loaded):
    world = loaded.world
    reply = world.get(world.collection_path(rest="objects/"), query={"match[type]": "grouping"})
    assert (reply.status, reply.body) == (200, b"{}")
    assert reply.header("X-TAXII-Date-Added-First") is None
    assert reply.header("X-TAXII-Date-Added-Last") is None


def test_an_unknown_status_is_404(loaded: Loaded):
    reply = loaded.world.get("/taxii2/steppe/status/2d086da7-4bdc-4f91-900e-d77486753710/")
    assert reply.status == 404
    assert reply.header("Content-Type") == TAXII
