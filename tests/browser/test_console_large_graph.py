"""A graph of a few hundred campaigns renders, and stays clickable after panning and zooming.

(How fast is bench/console_graph.py's business; nothing here is timed.)
"""

from __future__ import annotations

import time

import pytest
from console_pages import (
    GRAPH_READY,
    LIST_ITEMS,
    clickable_node,
    edge_set,
    node_on_screen,
    open_graph,
    rendered_graph,
)
from console_world import ADMIN_KEY
from playwright.sync_api import Page, expect

from support.campaign_mesh import post_envelope, ring
from support.server import RunningServer

CAMPAIGNS = 300


@pytest.fixture(scope="module")
def names(server: RunningServer) -> dict[str, str]:
    objects, names = ring(CAMPAIGNS)
    post_envelope(server, ADMIN_KEY, objects)
    deadline = time.monotonic() + 90
    while True:  # correlation links them in the server's background worker
        status, graph = server.json("GET", "/api/v1/campaigns/graph", ADMIN_KEY)
        assert status == 200, graph
        if sum(e["strength"] == "exact" for e in graph["edges"]) >= CAMPAIGNS:
            return names
        assert time.monotonic() < deadline, graph["counts"]
        time.sleep(0.2)


def test_a_graph_of_hundreds_of_campaigns_renders_and_stays_clickable(
    page: Page, server: RunningServer, names: dict[str, str]
):
    open_graph(page, server.url, ADMIN_KEY)
    status, answer = server.json("GET", "/api/v1/campaigns/graph", ADMIN_KEY)
    assert status == 200
    drawn = rendered_graph(page)
    assert {n["id"] for n in drawn["nodes"]} == set(names)
    assert edge_set(drawn["edges"]) == edge_set(answer["edges"])
    # The ring, exactly; the only weak evidence is the /24 of the very address a pair shares.
    ids = sorted(names, key=names.__getitem__)
    ring_pairs = {frozenset((ids[n], ids[(n + 1) % CAMPAIGNS])) for n in range(CAMPAIGNS)}
    by_strength: dict[str, set[frozenset[str]]] = {}
    for pair, strength in edge_set(drawn["edges"]):
        by_strength.setdefault(strength, set()).add(pair)
    assert by_strength.pop("exact") == ring_pairs
    assert set(by_strength) <= {"network"}
    assert by_strength.get("network", set()) <= ring_pairs
    ready = page.locator(GRAPH_READY)
    assert ready.get_attribute("data-nodes") == str(CAMPAIGNS)
    assert ready.get_attribute("data-edges") == str(len(answer["edges"]))
    expect(page.locator(LIST_ITEMS)).to_have_count(CAMPAIGNS)

    # Pan (drag the background from a corner), then zoom in with the wheel until nodes
    # are big enough to aim at (fitted, a few hundred campaigns are dots), then click two.
    graph = "window.steppeConsole.graph"
    box = page.locator("[data-testid=graph]").bounding_box()
    assert box is not None
    pan = page.evaluate(f"() => {graph}.pan()")
    page.mouse.move(box["x"] + 4, box["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + 84, box["y"] + 64, steps=10)
    page.mouse.up()
    page.wait_for_function(f"p => {graph}.pan().x !== p.x || {graph}.pan().y !== p.y", arg=pan)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(20):
        if page.evaluate(f"() => {graph}.nodes().first().renderedWidth()") >= 20:
            break
        zoom = page.evaluate(f"() => {graph}.zoom()")
        page.mouse.wheel(0, -300)
        page.wait_for_function(f"z => {graph}.zoom() > z", arg=zoom)
    page.wait_for_timeout(300)  # let the wheel's zoom settle before reading positions

    name = page.locator("[data-testid=campaign-panel] [data-testid=campaign-name]")
    first = clickable_node(page)
    page.mouse.click(*node_on_screen(page, first))
    expect(name).to_have_text(names[first])
    second = clickable_node(page, exclude=first)
    page.mouse.click(*node_on_screen(page, second))
    expect(name).to_have_text(names[second])
