// The campaign graph: campaigns as nodes (sized by values), shared infrastructure as edges.

import { get } from "./api.js";
import { renderCampaignPanel } from "./campaign.js";
import { TLP_LEVELS, append, clear, clearError, guarded, h, label, say, select, showError, when } from "./dom.js";
import { onLeave } from "./pages.js";
import { me } from "./session.js";

const STRENGTHS = ["exact", "sample", "family", "network", "asn"];
const WEAK = new Set(["network", "asn"]);
const STRENGTH_TEXT = {
  exact: "exact: the same value",
  sample: "sample: the same malware sample",
  family: "family: the same malware or tool family",
  network: "network: other addresses in the same /24 or /48 (weak)",
  asn: "asn: the same autonomous system (weak)",
};
const TLP_COLOURS = { clear: "#e2e8f0", green: "#16a34a", amber: "#f59e0b", "amber+strict": "#c2410c", red: "#dc2626" };
// Above these sizes the graph is laid out without force simulation and drawn cheaply while moving.
const FORCE_LAYOUT_MAX_NODES = 250;
const CURVED_EDGES_MAX = 1500;
const LARGE_GRAPH = 500;

// The filters survive leaving the page and coming back.
const filters = { since: "", until: "", kind: "", collection: "", tlp: "", strength: "" };
let kindsSeen = new Set();

function stamp(text, endOfDay) {
  const value = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T${endOfDay ? "23:59:59" : "00:00:00"}Z`;
  return value;
}

function graphQuery() {
  return [
    ["since", filters.since && stamp(filters.since, false)],
    ["until", filters.until && stamp(filters.until, true)],
    ["kind", filters.kind],
    ["collection", filters.collection],
    ["tlp", filters.tlp],
    ["strength", filters.strength],
  ];
}

// Node sizes in model units. A large graph keeps a narrow range, so that at the zoom that fits
// it on screen the smallest campaign is still a target a mouse can hit.
const SIZE_SMALL_GRAPH = [18, 64];
const SIZE_LARGE_GRAPH = [40, 64];

function nodeSize(values, largest, [least, most]) {
  return Math.round(least + (most - least) * Math.sqrt(Math.max(0, values || 0) / Math.max(1, largest)));
}

export function elementsOf(graph) {
  let largest = 1;
  for (const node of graph.nodes) largest = Math.max(largest, node.values || 0);
  const range = graph.nodes.length > FORCE_LAYOUT_MAX_NODES ? SIZE_LARGE_GRAPH : SIZE_SMALL_GRAPH;
  const nodes = graph.nodes.map((node) => ({
    group: "nodes",
    data: {
      id: node.id,
      name: node.name || node.id,
      values: node.values || 0,
      size: nodeSize(node.values, largest, range),
      colour: TLP_COLOURS[node.tlp] || "#94a3b8",
      tlp: node.tlp,
      kind: node.kind || "",
    },
  }));
  const edges = graph.edges.map((edge) => ({
    group: "edges",
    data: {
      id: `${edge.source}|${edge.target}|${edge.strength}`,
      source: edge.source,
      target: edge.target,
      strength: edge.strength,
      evidence: edge.evidence,
      confidence: edge.confidence,
      count: edge.count,
      shared: (edge.shared || []).join(", "),
      width: 1 + Math.min(4, Math.log2(1 + (edge.count || 1))),
    },
    classes: `${edge.strength}${WEAK.has(edge.strength) ? " weak" : ""}`,
  }));
  return { nodes, edges };
}

function graphStyle(curved) {
  return [
    {
      selector: "node",
      style: {
        width: "data(size)",
        height: "data(size)",
        "background-color": "data(colour)",
        "border-width": 2,
        "border-color": "#1e293b",
        label: "data(name)",
        "font-size": 11,
        "min-zoomed-font-size": 9,
        color: "#0f172a",
        "text-valign": "bottom",
        "text-margin-y": 3,
        "text-wrap": "ellipsis",
        "text-max-width": 140,
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.7,
      },
    },
    // The chosen campaign and its links: classes toggled on those elements only (see choose()).
    { selector: "node.near", style: { "border-color": "#1d4ed8", "border-width": 3 } },
    {
      selector: "node.chosen",
      style: { "border-width": 6, "border-color": "#1d4ed8", "underlay-color": "#1d4ed8", "underlay-opacity": 0.45, "underlay-padding": 16, "underlay-shape": "ellipse", "z-index": 10 },
    },
    {
      selector: "edge",
      style: {
        width: "data(width)",
        "curve-style": curved ? "bezier" : "straight",
        "line-color": "#0f172a",
        opacity: 0.85,
      },
    },
    { selector: "edge.exact", style: { "line-style": "solid", "line-color": "#0f172a" } },
    { selector: "edge.sample", style: { "line-style": "solid", "line-color": "#7c3aed" } },
    { selector: "edge.family", style: { "line-style": "dotted", "line-color": "#b45309" } },
    { selector: "edge.weak", style: { "line-style": "dashed", "line-color": "#94a3b8", opacity: 0.5 } },
    { selector: "edge.near", style: { "line-color": "#1d4ed8", opacity: 1, "z-index": 9 } },
    { selector: "edge.picked", style: { "line-color": "#1d4ed8", opacity: 1, width: 5 } },
  ];
}

// Spacing of the large-graph layout, centre to centre, in model units (the largest node is 64).
const CELL = SIZE_LARGE_GRAPH[1] + 14;

// Breadth-first order, each component from its best-linked campaign: linked campaigns come
// one after the other, so they land in neighbouring cells.
function linkedOrder(cy) {
  const byDegree = cy.nodes().sort((a, b) => b.degree(false) - a.degree(false) || (a.id() < b.id() ? -1 : 1));
  const seen = new Set();
  const order = [];
  for (const root of byDegree) {
    if (seen.has(root.id())) continue;
    seen.add(root.id());
    const queue = [root];
    for (let at = 0; at < queue.length; at += 1) {
      const node = queue[at];
      order.push(node);
      const next = node.neighborhood("node").filter((other) => !seen.has(other.id()));
      for (const other of next.sort((a, b) => b.degree(false) - a.degree(false))) {
        seen.add(other.id());
        queue.push(other);
      }
    }
  }
  return order;
}

// A large graph on a hexagonal grid of cells filling an ellipse of the canvas' shape, best
// linked campaign in the middle, linked campaigns side by side around it: linear after the
// sort, and the spread is what the canvas holds, so the fitted zoom keeps nodes big enough
// to click (a ring of a thousand campaigns is fitted at a few pixels a node).
function packedPositions(cy) {
  const order = linkedOrder(cy);
  const count = order.length;
  const aspect = cy.width() > 0 && cy.height() > 0 ? cy.width() / cy.height() : 1.6;
  const rowHeight = CELL * 0.866;
  const rows = Math.max(1, Math.ceil(Math.sqrt((1.35 * count * CELL) / (aspect * rowHeight))));
  const cols = Math.max(1, Math.ceil((aspect * rows * rowHeight) / CELL));
  const width = cols * CELL;
  const height = rows * rowHeight;
  const cells = [];
  for (let row = 0; row < rows; row += 1) {
    for (let col = 0; col < cols; col += 1) {
      const x = (col + (row % 2) * 0.5) * CELL;
      const y = row * rowHeight;
      const dx = (x - width / 2) / width;
      const dy = (y - height / 2) / height;
      cells.push({ x, y, distance: Math.sqrt(dx * dx + dy * dy), angle: Math.atan2(dy, dx) });
    }
  }
  cells.sort((a, b) => a.distance - b.distance);
  const used = cells.slice(0, count);
  // Rings of cells, each walked around: consecutive campaigns sit next to each other.
  const bands = Math.max(1, Math.round(rows / 2));
  const outer = used.length ? used[used.length - 1].distance || 1 : 1;
  used.sort((a, b) => Math.floor((a.distance / outer) * bands) - Math.floor((b.distance / outer) * bands) || a.angle - b.angle);
  const positions = new Map();
  order.forEach((node, index) => positions.set(node.id(), { x: used[index].x, y: used[index].y }));
  return positions;
}

function layoutOf(cy) {
  if (cy.nodes().length <= FORCE_LAYOUT_MAX_NODES) {
    return { name: "cose", animate: false, randomize: true, numIter: 600, idealEdgeLength: 90, nodeRepulsion: 9000, nodeOverlap: 12, componentSpacing: 80, fit: true, padding: 50 };
  }
  const positions = packedPositions(cy);
  return { name: "preset", animate: false, fit: true, padding: 30, positions: (node) => positions.get(node.id()) };
}

function legend() {
  const item = (strength) =>
    h("li", { className: `legend-${strength}` }, h("span", { className: "swatch", "aria-hidden": "true" }), STRENGTH_TEXT[strength]);
  const tlp = (level) => h("li", { className: `legend-tlp legend-tlp-${level.replace("+", "-")}` }, h("span", { className: "dot", "aria-hidden": "true" }), `TLP:${level.toUpperCase()}`);
  return h(
    "section",
    { className: "legend", dataset: { testid: "legend" }, "aria-label": "Legend" },
    h("h2", {}, "Legend"),
    h("ul", { className: "legend-edges" }, STRENGTHS.map(item)),
    h("ul", { className: "legend-tlps" }, TLP_LEVELS.map(tlp)),
    h("p", {}, "Node size: how many values the campaign has."),
  );
}

function filterForm(onApply) {
  const who = me() || {};
  const since = h("input", { type: "text", placeholder: "YYYY-MM-DD", value: filters.since, inputmode: "numeric", dataset: { testid: "filter-since" } });
  const until = h("input", { type: "text", placeholder: "YYYY-MM-DD", value: filters.until, inputmode: "numeric", dataset: { testid: "filter-until" } });
  const kinds = [["", "any kind"], ...[...kindsSeen].filter(Boolean).sort().map((k) => [k, k])];
  if (filters.kind && !kindsSeen.has(filters.kind)) kinds.push([filters.kind, filters.kind]);
  const kind = select(kinds, { dataset: { testid: "filter-kind" } }, filters.kind);
  const collections = [["", "every collection"], ...(who.can_read || []).map((c) => [c.id, c.title || c.id])];
  const collection = select(collections, { dataset: { testid: "filter-collection" } }, filters.collection);
  const tlp = select([["", "any TLP I may see"], ...TLP_LEVELS.map((level) => [level, `up to ${level.toUpperCase()}`])], { dataset: { testid: "filter-tlp" } }, filters.tlp);
  const strength = select(
    [["", "every link"], ["exact,sample,family", "strong and medium only"], ...STRENGTHS.map((s) => [s, `${s} only`])],
    { dataset: { testid: "filter-strength" } },
    filters.strength,
  );
  const form = h(
    "form",
    { className: "filters", "aria-label": "Graph filters" },
    label("Seen since", since),
    label("Seen until", until),
    label("Kind", kind),
    label("Collection", collection),
    label("TLP", tlp),
    label("Links", strength),
    h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "filter-apply" } }, "Apply")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, {
      since: since.value.trim(),
      until: until.value.trim(),
      kind: kind.value,
      collection: collection.value,
      tlp: tlp.value,
      strength: strength.value,
    });
    onApply();
  });
  return form;
}

export async function renderGraph(main) {
  const ready = h("p", { className: "graph-status", "aria-live": "polite" }, "Loading the graph…");
  const container = h("div", { className: "graph", dataset: { testid: "graph" }, role: "img", "aria-label": "Campaign graph; the list beside it has the same campaigns" });
  const list = h("ul", { className: "campaign-list", dataset: { testid: "campaign-list" }, "aria-label": "Campaigns" });
  const panelSlot = h("div", { className: "panel-slot" });
  const edgeInfo = h("p", { className: "edge-info", dataset: { testid: "edge-detail" }, "aria-live": "polite" });
  const filterSlot = h("div", {});
  append(main, 
    h("h1", { className: "page-title" }, "Campaign graph"),
    filterSlot,
    h(
      "div",
      { className: "graph-page" },
      h("div", { className: "graph-column" }, container, ready, edgeInfo, legend()),
      h("aside", { className: "graph-aside", "aria-label": "Campaigns and the selected one" }, h("h2", {}, "Campaigns"), list, panelSlot),
    ),
  );
  let cy = null;
  let selected = null;
  let left = false;
  onLeave(() => {
    left = true;
    if (cy) cy.destroy();
    cy = null;
    window.steppeConsole.graph = null;
  });

  // Selecting touches only what changes: two list buttons, the old and the new node and
  // their links (a campaign linked to very many others highlights the first NEAR_MAX).
  let highlighted = null;
  const buttons = new Map();
  const NEAR_MAX = 200;

  function mark(id) {
    const previous = selected;
    selected = id;
    if (previous !== id && buttons.has(previous)) buttons.get(previous).setAttribute("aria-pressed", "false");
    if (buttons.has(id)) buttons.get(id).setAttribute("aria-pressed", "true");
    if (!cy) return null;
    const node = cy.getElementById(id);
    cy.batch(() => {
      if (highlighted) highlighted.removeClass("chosen near");
      highlighted = null;
      if (node.nonempty()) {
        const links = node.connectedEdges().slice(0, NEAR_MAX);
        highlighted = node.union(links).union(links.connectedNodes());
        links.connectedNodes().addClass("near");
        links.addClass("near");
        node.addClass("chosen");
      }
    });
    return node;
  }

  async function choose(id, fromGraph) {
    const node = mark(id);
    if (node && node.nonempty() && !fromGraph) {
      const view = cy.extent();
      const at = node.position();
      if (at.x < view.x1 || at.x > view.x2 || at.y < view.y1 || at.y > view.y2) cy.center(node);
    }
    clearError();
    await guarded(() => renderCampaignPanel(panelSlot, id, { onSelect: (other) => choose(other, false) }));
  }

  async function load() {
    ready.removeAttribute("data-testid");
    ready.textContent = "Loading the graph…";
    clear(list);
    buttons.clear();
    highlighted = null;
    edgeInfo.textContent = "";
    if (cy) {
      cy.destroy();
      cy = null;
      window.steppeConsole.graph = null;
    }
    clearError();
    const graph = await guarded(() => get("campaigns/graph", graphQuery()));
    if (left) return;
    if (!graph) {
      ready.textContent = "The graph could not be loaded.";
      return;
    }
    const known = kindsSeen.size;
    for (const node of graph.nodes) kindsSeen.add(node.kind || "");
    if (kindsSeen.size !== known) append(clear(filterSlot), filterForm(load));
    try {
      draw(graph);
    } catch (error) {
      ready.textContent = "The graph could not be drawn.";
      showError(error);
    }
  }

  function draw(graph) {
    const started = performance.now();
    const { nodes, edges } = elementsOf(graph);
    const ordered = [...graph.nodes].sort((a, b) => String(a.first_seen).localeCompare(String(b.first_seen)) || String(a.name).localeCompare(String(b.name)));
    const items = document.createDocumentFragment();
    for (const node of ordered) {
      const button = h(
        "button",
        { type: "button", className: "campaign-button", dataset: { campaignId: node.id }, "aria-pressed": String(node.id === selected) },
        h("span", { className: "campaign-title" }, node.name || node.id),
        h("span", { className: "campaign-meta" }, `${when(node.first_seen)} – ${when(node.last_seen)} · ${node.values} values · TLP:${String(node.tlp).toUpperCase()}${node.kind ? ` · ${node.kind}` : ""}`),
      );
      buttons.set(node.id, button);
      items.append(h("li", {}, button));
    }
    list.append(items);
    // One listener for the whole list, not one per campaign.
    list.onclick = (event) => {
      const button = event.target.closest("button[data-campaign-id]");
      if (button && list.contains(button)) choose(button.dataset.campaignId, false);
    };
    if (typeof window.cytoscape !== "function") {
      throw new Error("the graph library (vendor/cytoscape.min.js) did not load");
    }
    const large = nodes.length > LARGE_GRAPH;
    cy = window.cytoscape({
      container,
      elements: [...nodes, ...edges],
      style: graphStyle(edges.length <= CURVED_EDGES_MAX),
      layout: { name: "preset" },
      minZoom: 0.02,
      maxZoom: 5,
      boxSelectionEnabled: false,
      // Selection is ours (classes on the chosen node and its links): cytoscape's own would
      // unselect by scanning every element on each tap.
      autounselectify: true,
      autoungrabify: large,
      hideEdgesOnViewport: large,
      textureOnViewport: large,
      motionBlur: false,
      pixelRatio: large ? 1 : "auto",
    });
    const built = performance.now();
    cy.layout(layoutOf(cy)).run();
    const laidOut = performance.now();
    cy.on("tap", "node", (event) => choose(event.target.id(), true));
    let picked = null;
    cy.on("tap", "edge", (event) => {
      if (picked) picked.removeClass("picked");
      picked = event.target.addClass("picked");
      const data = event.target.data();
      const ends = `${cy.getElementById(data.source).data("name")} — ${cy.getElementById(data.target).data("name")}`;
      edgeInfo.textContent = `${ends}: ${data.strength} link (${data.evidence}), confidence ${data.confidence}, ${data.count} shared: ${data.shared}`;
    });
    window.steppeConsole.graph = cy;
    const shown = graph.counts ? ` of ${graph.counts.nodes} campaigns` : "";
    ready.textContent = graph.truncated
      ? `Showing ${nodes.length}${shown} (the limit), ${edges.length} links between them.`
      : `${nodes.length} campaigns, ${edges.length} links.`;
    if (!nodes.length) ready.textContent = "No campaign you may see matches these filters.";
    ready.dataset.nodes = String(cy.nodes().length);
    ready.dataset.edges = String(cy.edges().length);
    // How long the drawing took (for the browser benchmark): building, layout, all.
    ready.dataset.buildMs = String(Math.round(built - started));
    ready.dataset.layoutMs = String(Math.round(laidOut - built));
    ready.dataset.renderMs = String(Math.round(performance.now() - started));
    ready.dataset.testid = "graph-ready";
    say(ready.textContent);
    if (selected && cy.getElementById(selected).nonempty()) mark(selected);
  }

  append(clear(filterSlot), filterForm(load));
  await load();
}
