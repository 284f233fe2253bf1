"""Pages are bounded by bytes as well as by count: a Lambda response is at most 6 MB."""

from taxii_world import DAY, World, ids_of, pages, stix_id, store

from steppe.stix import tlp
from steppe.stix.timestamps import format_stix
from steppe.taxii.filters import MAX_PAGE_BYTES

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def report(size: int) -> dict:
    """A report whose description (an incident write-up) makes it `size` bytes or so."""
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id("report"),
        "created": format_stix(DAY),
        "modified": format_stix(DAY),
        "name": "Flood against Kyrgyz ISPs: traffic captures",
        "published": format_stix(DAY),
        "report_types": ["attack-pattern"],
        "object_refs": ["identity--5b2a9c0e-7d51-4a8e-9f53-0c2d8e6b1a47"],
        "description": "198.51.100.7 -> 203.0.113.1 SYN flood; " * (size // 40),
        "object_marking_refs": [tlp.GREEN.marking_id],
    }


def test_big_objects_are_spread_over_pages_that_fit_a_lambda_response(world: World):
    reports = [report(1_500_000) for _ in range(3)]
    store(world.app, world.shared, reports)
    replies = pages(world, world.collection_path(rest="objects/"), limit=1000)
    assert [len(ids_of(reply)) for reply in replies] == [2, 1]
    for reply in replies:
        assert len(reply.body) <= MAX_PAGE_BYTES + 1000
        assert len(reply.body) * 1.25 < LAMBDA_RESPONSE_LIMIT  # still fits once JSON-escaped
    assert [i for reply in replies for i in ids_of(reply)] == [r["id"] for r in reports]
    # A manifest has no bodies: one page.
    manifest = world.get(world.collection_path(rest="manifest/"))
    assert len(manifest.json()["objects"]) == 3 and manifest.json()["more"] is False


def test_one_object_larger_than_the_byte_budget_is_still_served(world: World):
    big = report(MAX_PAGE_BYTES + 200_000)
    small = report(1_000)
    store(world.app, world.shared, [big, small])
    replies = pages(world, world.collection_path(rest="objects/"), limit=1000)
    assert [ids_of(reply) for reply in replies] == [[big["id"]], [small["id"]]]
