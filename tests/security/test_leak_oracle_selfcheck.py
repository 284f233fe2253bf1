"""The leak oracle's checker catches a planted leak, so the oracle cannot pass silently."""

from __future__ import annotations

from support.leak_world import ACCESS, Built, Prober, Token, Viewer, find_hidden, report

RESTRICTED, SHARED = "c-restricted", "c-shared"
GREEN_READER = Viewer("reader", "partner", 1, frozenset({SHARED}), frozenset())
RED_TARGET = Token("zq0123456789", "target name", "report #0", {(RESTRICTED, 4)})
RED_ADDRESS = Token("192.0.2.17", "value", "report #0", {(RESTRICTED, 4)})
SHARED_ADDRESS = Token("192.0.2.200", "value", "reports #0, #1", {(RESTRICTED, 4), (SHARED, 1)})
AMBER_IN_SHARED = Token("zqabcdefabcd", "target name", "report #2", {(SHARED, 2)})
RESTRICTED_TITLE = Token("zqfedcba9876", "collection title", "c0", {(RESTRICTED, 0)}, rule=ACCESS)


def test_a_token_is_visible_only_through_a_readable_occurrence_at_or_below_the_clearance():
    assert not GREEN_READER.sees(RED_TARGET)
    assert GREEN_READER.sees(SHARED_ADDRESS)  # one visible occurrence is enough
    assert not GREEN_READER.sees(AMBER_IN_SHARED)  # readable collection, above the clearance
    assert not GREEN_READER.sees(RESTRICTED_TITLE)
    writer = Viewer("writer", "partner", 0, frozenset(), frozenset({RESTRICTED}))
    assert writer.sees(RESTRICTED_TITLE)  # a collection it may write to is named to it
    assert not writer.sees(RED_TARGET)  # but what is in it is not
    author = Viewer("author", "analyst", 0, frozenset(), frozenset({RESTRICTED}))
    RED_TARGET.known_to.add("author")
    try:
        assert author.sees(RED_TARGET)  # what a caller wrote itself is no leak
    finally:
        RED_TARGET.known_to.discard("author")


def test_a_hidden_token_in_the_body_is_reported():
    body = (
        b'{"campaigns":[{"name":"Operation x","targets":["Target zq0123456789"],'
        b'"related":[{"shared":["192.0.2.17","192.0.2.200"]}]}]}'
    )
    hidden = [t for t in (RED_TARGET, RED_ADDRESS, SHARED_ADDRESS) if not GREEN_READER.sees(t)]
    found = find_hidden({"Content-Type": "application/json"}, body, hidden)
    assert sorted(f.token.text for f in found) == ["192.0.2.17", "zq0123456789"]
    assert all(f.where == "body" for f in found)
    assert "Target zq0123456789" in next(f for f in found if f.token is RED_TARGET).context
    assert "target name 'zq0123456789' of report #0" in found[0].describe() + found[1].describe()


def test_a_hidden_token_in_a_header_or_an_error_is_reported():
    found = find_hidden(
        {"Location": "/api/v1/campaigns/x?name=zq0123456789", "X-Other": "nothing"},
        b'{"description":"there is no campaign"}',
        [RED_TARGET],
    )
    assert [(f.token.text, f.where) for f in found] == [("zq0123456789", "header Location")]


def test_the_checker_matches_raw_bytes_whatever_the_case_and_never_a_longer_address():
    assert find_hidden({}, b"...ZQ0123456789...", [RED_TARGET])  # upper-cased: still a leak
    # 192.0.2.17 inside 192.0.2.170 or 10.192.0.2.17x is another value, not a leak.
    assert not find_hidden({}, b'{"value":"192.0.2.170"}', [RED_ADDRESS])
    assert not find_hidden({}, b'{"value":"2192.0.2.17"}', [RED_ADDRESS])
    # A pattern, a sentence, a CIDR or a JSON key still count.
    for text in (
        b"[ipv4-addr:value = '192.0.2.17']",
        b"share 1 value: 192.0.2.17.",
        b'"192.0.2.17/32"',
        b'{"ipv4-addr:192.0.2.17":1}',
    ):
        assert find_hidden({}, text, [RED_ADDRESS]), text


def test_nothing_is_reported_when_nothing_hidden_is_there():
    body = b'{"targets":["Target zqabcdefabcd"],"shared":["192.0.2.200"]}'
    hidden = [t for t in (RED_TARGET, RED_ADDRESS) if not GREEN_READER.sees(t)]
    assert find_hidden({"Content-Type": "application/json"}, body, hidden) == []


def test_a_prober_reports_what_the_request_did_not_name():
    world = Built(
        spec=None,  # type: ignore[arg-type]
        collections=[RESTRICTED, SHARED],
        viewers=[GREEN_READER],
        keys={"reader": "key"},
        tokens=[RED_TARGET, RED_ADDRESS, SHARED_ADDRESS],
    )
    prober = Prober(None, world, GREEN_READER)  # type: ignore[arg-type]
    body = b'{"value":"192.0.2.17","campaigns":[{"targets":["Target zq0123456789"]}]}'
    # The caller asked about 192.0.2.17: its echo is no leak, the target behind it is.
    prober.check("GET /api/v1/observables", 200, {}, body, b"/api/v1/observables 192.0.2.17")
    assert [leak.what.split(" '")[0] for leak in prober.leaks] == ["target name"]
    assert "GET /api/v1/observables [200]" in str(prober.leaks[0])
    assert "reader <- " in report(world, prober.leaks)


def test_the_graph_checker_reports_a_hidden_node_and_an_edge_on_hidden_evidence():
    shown, hidden = "campaign--" + "1" * 36, "campaign--" + "2" * 36
    world = Built(
        spec=None,  # type: ignore[arg-type]
        collections=[RESTRICTED, SHARED],
        viewers=[GREEN_READER],
        keys={"reader": "key"},
        tokens=[RED_TARGET, RED_ADDRESS, SHARED_ADDRESS],
        campaign_ids={shown: {(SHARED, 1)}, hidden: {(RESTRICTED, 4), (SHARED, 2)}},
    )

    def edge(target: str, *shared: str) -> dict:
        return {"source": shown, "target": target, "strength": "exact", "shared": list(shared)}

    clean = Prober(None, world, GREEN_READER)  # type: ignore[arg-type]
    clean.check_graph("graph", {"nodes": [{"id": shown}], "edges": []})
    assert clean.leaks == []
    planted = Prober(None, world, GREEN_READER)  # type: ignore[arg-type]
    planted.check_graph(
        "graph",
        {
            "nodes": [{"id": shown}, {"id": hidden}],
            "edges": [edge(hidden, "192.0.2.17", "192.0.2.200"), edge("campaign--x")],
        },
    )
    found = [leak.what for leak in planted.leaks]
    assert len(found) == 3, found
    assert found[0].startswith(f"a node for campaign {hidden}")
    assert "rests on value '192.0.2.17'" in found[1]
    assert found[2].endswith("to a campaign not shown")
