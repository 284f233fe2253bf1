"""Driving the console through its DOM contract (console-contract.md): sign in, read the graph."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

STRENGTHS = ("exact", "sample", "family", "network", "asn")
GRAPH_READY = "[data-testid=graph-ready][data-nodes]"
CAMPAIGN_LIST = "[data-testid=campaign-list]"
LIST_ITEMS = f"{CAMPAIGN_LIST} [data-campaign-id]"

# What the cytoscape instance drew: every node, every edge with its strength and line style.
_RENDERED = """(strengths) => {
  const cy = window.steppeConsole.graph;
  return {
    nodes: cy.nodes().map(n => ({id: n.id(), width: n.renderedWidth()})),
    edges: cy.edges().map(e => ({
      source: e.source().id(),
      target: e.target().id(),
      strength: e.data('strength') || strengths.find(s => e.hasClass(s)) || null,
      line: e.style('line-style'),
    })),
  };
}"""


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/console/#/signin")
    page.fill("[data-testid=signin-key]", key)
    page.click("[data-testid=signin-submit]")
    expect(page.locator("[data-testid=whoami]")).not_to_have_text("")


def open_graph(page: Page, url: str, key: str) -> None:
    sign_in(page, url, key)
    page.goto(f"{url}/console/#/graph")
    page.locator(GRAPH_READY).wait_for(state="attached")


def rendered_graph(page: Page) -> dict[str, Any]:
    return page.evaluate(_RENDERED, list(STRENGTHS))


def edge_set(edges: list[dict[str, Any]]) -> set[tuple[frozenset[str], str]]:
    return {(frozenset((e["source"], e["target"])), e["strength"]) for e in edges}


def listed_campaigns(page: Page) -> list[str]:
    items = page.locator(LIST_ITEMS)
    return [items.nth(i).get_attribute("data-campaign-id") or "" for i in range(items.count())]


def node_on_screen(page: Page, campaign_id: str) -> tuple[float, float]:
    """Where a campaign's node is drawn, in page coordinates (its centre)."""
    box = page.locator("[data-testid=graph]").bounding_box()
    assert box is not None, "the graph container is not on the page"
    position = page.evaluate(
        "(id) => window.steppeConsole.graph.getElementById(id).renderedPosition()", campaign_id
    )
    return box["x"] + position["x"], box["y"] + position["y"]


def choose(page: Page, selector: str, value: str) -> None:
    """Set a form control whether the console made it a <select> or a text input."""
    control = page.locator(selector)
    if control.evaluate("el => el.tagName") == "SELECT":
        control.select_option(value)
    else:
        control.fill(value)


def snapshot(page: Page, name: str) -> None:
    """Keep a screenshot of the page as it is now (test artefacts, not compared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)


# The node whose centre is farthest from being covered by another node, among those
# drawn inside the canvas, other than `exclude` (read only): [id, clearance in pixels].
_MOST_CLEAR = """(exclude) => {
  const cy = window.steppeConsole.graph;
  const w = cy.width(), h = cy.height();
  const nodes = cy.nodes().map(
    n => ({id: n.id(), p: n.renderedPosition(), r: n.renderedWidth() / 2}));
  let best = [null, -Infinity];
  for (const a of nodes) {
    if (a.id === exclude || a.p.x < 10 || a.p.y < 10 || a.p.x > w - 10 || a.p.y > h - 10) continue;
    let clear = Infinity;
    for (const b of nodes) {
      if (b !== a) clear = Math.min(clear, Math.hypot(a.p.x - b.p.x, a.p.y - b.p.y) - b.r);
    }
    if (clear > best[1]) best = [a.id, clear];
  }
  return best;
}"""


def clickable_node(page: Page, exclude: str = "") -> str:
    """A campaign whose node a click on its centre reaches (no other node drawn over it)."""
    campaign, clearance = page.evaluate(_MOST_CLEAR, exclude)
    assert campaign is not None and clearance > 1, "every node's centre lies under another node"
    return campaign
