"""The console's campaign graph in headless Chromium: 1,000 campaigns and 5,000 links.

A real `steppe serve` is seeded over TAXII (the real API, in envelopes of 100
campaigns): campaign a and campaign a+d (mod n) share one address for d in 1, 2,
3, 5 and 7, so n campaigns have 5n exact links; every shared address is in a /24
of its own and none carries an autonomous system, so nothing weak links them.
Debian's Chromium (Playwright, never a downloaded browser) then opens the
console and the page itself measures, with performance.now():

* load: from navigation (a reload of #/graph) to `[data-testid=graph-ready]`
  carrying the expected node count (fetch, layout, first render);
* panel: from the mouse button going down on a node to the campaign panel
  naming another campaign (its view is fetched from the API on the way);
* frames: requestAnimationFrame intervals while the graph is panned (mouse
  drags) and zoomed (wheel), median and 95th percentile.

Baseline, measured in the same run: the same with 100 campaigns and 500 links.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import orjson
from playwright.sync_api import Page, sync_playwright

from bench.common import ADMIN_KEY, Server, embedded_server, heading, row
from steppe.stix import tlp

OFFSETS = (1, 2, 3, 5, 7)
LARGE, SMALL = 1_000, 100
PER_ENVELOPE = 100  # campaigns per TAXII POST
TAXII = "application/taxii+json;version=2.1"
STAMP = "2024-03-01T00:00:00.000Z"
CHROMIUM = "/usr/bin/chromium"
QUIET_FLAGS = [  # the machine's network is closed: keep Chromium from calling home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
]
LOADS, CLICKS, GESTURES = 3, 5, 6


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def address(n: int) -> str:
    return f"10.{n // 256}.{n % 256}.1"


def _sdo(stix_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "object_marking_refs": [tlp.GREEN.marking_id],
        **fields,
    }


def mesh(campaigns: int) -> tuple[list[list[dict[str, Any]]], dict[str, str]]:
    """Envelopes of objects (each campaign with its indicators), and campaign id -> name."""
    made = [
        _sdo(
            "campaign",
            name=f"Mesh campaign {c:04d}",
            first_seen="2024-01-01T00:00:00Z",
            last_seen="2024-02-01T00:00:00Z",
        )
        for c in range(campaigns)
    ]
    owned: list[list[dict[str, Any]]] = [[campaign] for campaign in made]
    for n in range(len(OFFSETS) * campaigns):
        a = n % campaigns
        b = (a + OFFSETS[n // campaigns]) % campaigns
        for c in (a, b):
            indicator = _sdo(
                "indicator",
                name=f"Shared host {address(n)}",
                indicator_types=["malicious-activity"],
                pattern=f"[ipv4-addr:value = '{address(n)}']",
                pattern_type="stix",
                valid_from="2024-01-01T00:00:00Z",
            )
            tie = _sdo(
                "relationship",
                relationship_type="indicates",
                source_ref=indicator["id"],
                target_ref=made[c]["id"],
            )
            owned[c] += [indicator, tie]
    envelopes = []
    for start in range(0, campaigns, PER_ENVELOPE):
        objects = [tlp.GREEN.marking_definition()]
        for group in owned[start : start + PER_ENVELOPE]:
            objects += group
        envelopes.append(objects)
    return envelopes, {c["id"]: c["name"] for c in made}


def seed(server: Server, campaigns: int) -> tuple[dict[str, str], int, float]:
    """POST the mesh, wait until every exact link is in the graph.

    (names, edges the graph has, seconds it took). Correlation also records
    network evidence for the /24 of each shared address itself, so the graph
    holds a weak edge beside each exact one.
    """
    started = time.perf_counter()
    envelopes, names = mesh(campaigns)
    accept = {"Accept": TAXII}
    discovery = server.json("GET", "/taxii2/", headers=accept)
    root = (discovery.get("default") or discovery["api_roots"][0]).rstrip("/")
    root = root[root.index("/taxii2/") :]
    collection = server.json("GET", f"{root}/collections/", headers=accept)["collections"][0]["id"]
    statuses = [
        server.json(
            "POST",
            f"{root}/collections/{collection}/objects/",
            orjson.dumps({"objects": objects}),
            headers={**accept, "Content-Type": TAXII},
        )["id"]
        for objects in envelopes
    ]
    for status in statuses:
        while True:
            resource = server.json("GET", f"{root}/status/{status}/", headers=accept)
            if resource["status"] == "complete":
                if resource["failure_count"]:
                    raise RuntimeError(f"objects refused: {resource.get('failures')!r:.300}")
                break
            time.sleep(0.1)
    links = len(OFFSETS) * campaigns
    deadline = time.monotonic() + 900
    while True:  # correlation runs in the server's background worker
        graph = server.json("GET", "/api/v1/campaigns/graph?limit=5000")
        exact = sum(edge["strength"] == "exact" for edge in graph["edges"])
        if graph["counts"]["nodes"] == campaigns and exact >= links:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"correlation did not link the mesh: {graph['counts']}")
        time.sleep(0.5)
    if exact != links:
        raise RuntimeError(f"expected {links} exact links, got {exact}")
    return names, len(graph["edges"]), time.perf_counter() - started


# ---------------------------------------------------------------------------
# Measuring in the page
# ---------------------------------------------------------------------------

# Installed before every document: notes when the graph is ready with `nodes` nodes,
# when a mouse button goes down, and when the panel names another campaign than `before`.
_PROBE = """(() => {
  const b = window.__bench = {ready: null, down: null, before: null, shown: null};
  const check = () => {
    if (b.ready === null) {
      const ready = document.querySelector('[data-testid=graph-ready][data-nodes]');
      if (ready && ready.getAttribute('data-nodes') === '%d') b.ready = performance.now();
    }
    if (b.before !== null && b.shown === null) {
      const name = document.querySelector(
        '[data-testid=campaign-panel] [data-testid=campaign-name]');
      if (name && name.textContent.trim() !== b.before) b.shown = performance.now();
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('mousedown', () => { b.down = performance.now(); }, true);
})();"""

# Nodes to click: drawn inside the canvas, those most clear of the others first (read
# only; at 1,000 campaigns the fitted nodes overlap, so a click may open a neighbour).
_CLEAR_NODES = """(count) => {
  const cy = window.steppeConsole.graph;
  const w = cy.width(), h = cy.height();
  const nodes = cy.nodes().map(
    n => ({id: n.id(), p: n.renderedPosition(), r: n.renderedWidth() / 2}));
  const slack = (a) => Math.min(...nodes.filter(b => b !== a).map(
    b => Math.hypot(a.p.x - b.p.x, a.p.y - b.p.y) - b.r));
  return nodes
    .filter(a => a.p.x > 20 && a.p.y > 20 && a.p.x < w - 20 && a.p.y < h - 20)
    .map(a => ({id: a.id, slack: slack(a)}))
    .sort((a, b) => b.slack - a.slack)
    .slice(0, count)
    .map(a => a.id);
}"""

_RECORD_FRAMES = """() => {
  const b = window.__bench;
  b.frames = []; b.recording = true;
  let last = null;
  const tick = (t) => {
    if (last !== null) b.frames.push(t - last);
    last = t;
    if (b.recording) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/console/#/signin")
    page.fill("[data-testid=signin-key]", ADMIN_KEY)
    page.click("[data-testid=signin-submit]")
    page.locator("[data-testid=whoami]").wait_for()


def load_ms(page: Page, url: str) -> tuple[float, float, float]:
    """(navigation to graph-ready, and of it the page's own build+layout and drawing figures:
    graph-ready's data-layout-ms and data-render-ms, medians)."""
    page.goto(f"{url}/console/#/graph")
    page.wait_for_function("() => window.__bench.ready !== null", timeout=300_000)
    timings, layouts, renders = [], [], []
    ready = page.locator("[data-testid=graph-ready]")
    for _ in range(LOADS):
        page.reload()
        page.wait_for_function("() => window.__bench.ready !== null", timeout=300_000)
        timings.append(page.evaluate("() => window.__bench.ready"))
        layouts.append(float(ready.get_attribute("data-layout-ms") or "nan"))
        renders.append(float(ready.get_attribute("data-render-ms") or "nan"))
    return statistics.median(timings), statistics.median(layouts), statistics.median(renders)


def panel_ms(page: Page) -> float:
    box = page.locator("[data-testid=graph]").bounding_box()
    if box is None:
        raise RuntimeError("no [data-testid=graph] on the page")
    chosen = page.evaluate(_CLEAR_NODES, CLICKS)
    if not chosen:
        raise RuntimeError("no node drawn clear of the others to click")
    timings = []
    for campaign in chosen:
        position = page.evaluate(
            "(id) => window.steppeConsole.graph.getElementById(id).renderedPosition()", campaign
        )
        page.evaluate(
            """() => {
              const name = document.querySelector(
                '[data-testid=campaign-panel] [data-testid=campaign-name]');
              Object.assign(window.__bench, {
                before: name ? name.textContent.trim() : '', shown: null, down: null});
            }"""
        )
        page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        page.wait_for_function("() => window.__bench.shown !== null", timeout=60_000)
        timings.append(page.evaluate("() => window.__bench.shown - window.__bench.down"))
    return statistics.median(timings)


def frame_ms(page: Page) -> tuple[float, float, int]:
    """(median, p95 frame interval, frames) while panning and zooming with the mouse."""
    box = page.locator("[data-testid=graph]").bounding_box()
    if box is None:
        raise RuntimeError("no [data-testid=graph] on the page")
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.evaluate(_RECORD_FRAMES)
    for _ in range(GESTURES):
        page.mouse.move(box["x"] + 4, box["y"] + 4)
        page.mouse.down()
        page.mouse.move(box["x"] + 204, box["y"] + 124, steps=20)
        page.mouse.up()
        page.mouse.move(*middle)
        for delta in (-120, -120, -120, 120, 120, 120):
            page.mouse.wheel(0, delta)
            page.wait_for_timeout(30)
    frames = page.evaluate(
        "() => { window.__bench.recording = false; return window.__bench.frames; }"
    )
    if len(frames) < 20:
        raise RuntimeError(f"only {len(frames)} frames recorded")
    return statistics.median(frames), statistics.quantiles(frames, n=20)[18], len(frames)


def measure(campaigns: int) -> dict[str, float]:
    with embedded_server() as server, sync_playwright() as playwright:
        _, edges, seeded = seed(server, campaigns)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS
        )
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.add_init_script(_PROBE % campaigns)
            page = context.new_page()
            url = f"http://127.0.0.1:{server.port}"
            sign_in(page, url)
            load, layout, render = load_ms(page, url)
            panel = panel_ms(page)
            median, p95, frames = frame_ms(page)
        finally:
            browser.close()
    return {
        "seeded": seeded,
        "edges": edges,
        "load": load,
        "layout": layout,
        "render": render,
        "panel": panel,
        "frame": median,
        "frame_p95": p95,
        "frames": frames,
    }


def run() -> None:
    heading(
        f"Console graph in headless Chromium: {LARGE:,} campaigns, "
        f"{len(OFFSETS) * LARGE:,} exact links"
    )
    small = measure(SMALL)
    large = measure(LARGE)
    base = f"{SMALL} campaigns / {len(OFFSETS) * SMALL} links:"
    row(
        "navigation to graph-ready (median of 3)",
        f"{large['load']:,.0f} ms",
        f"{base} {small['load']:,.0f} ms",
        f"ratio {large['load'] / small['load']:.1f}",
    )
    row(
        "  of which building and drawing the graph",
        f"{large['render']:,.0f} ms",
        f"{base} {small['render']:,.0f} ms",
        f"layout alone {large['layout']:,.0f} ms (vs {small['layout']:,.0f})",
    )
    row(
        "click on a node to its panel (median of 5)",
        f"{large['panel']:,.0f} ms",
        f"{base} {small['panel']:,.0f} ms",
        f"ratio {large['panel'] / small['panel']:.1f}",
    )
    row(
        "frame interval while panning/zooming, median",
        f"{large['frame']:,.1f} ms",
        f"{base} {small['frame']:,.1f} ms",
        f"{1000 / large['frame']:,.0f} fps; {large['frames']:,.0f} frames",
    )
    row(
        "  95th percentile",
        f"{large['frame_p95']:,.1f} ms",
        f"{base} {small['frame_p95']:,.1f} ms",
    )
    row(
        "  (edges drawn: exact + weak on the same pairs)",
        f"{large['edges']:,}",
        f"{base} {small['edges']:,}",
    )
    row(
        "  (seeding over TAXII until correlated)",
        f"{large['seeded']:,.1f} s",
        f"{base} {small['seeded']:,.1f} s",
    )


if __name__ == "__main__":
    run()
