// One campaign: its indicators, targets, timeline, and the campaigns related to it with the shared values.

import { get } from "./api.js";
import { revokeIndicatorButton } from "./actions.js";
import { append, clear, guarded, h, tlpBadge, when } from "./dom.js";
import { isStaff } from "./session.js";

const STRENGTH_WORD = { exact: "exact", sample: "same sample", family: "same family", network: "same network (weak)", asn: "same AS (weak)" };

function list(ul, items, empty) {
  return [append(ul, items), items.length ? null : h("p", { className: "empty" }, empty)];
}

function values(items) {
  return h("span", { className: "values" }, items.map((value, index) => [index ? ", " : "", h("code", {}, value)]));
}

// Fill `slot` with the campaign panel of `id`; `onSelect(id)` opens a related campaign.
export async function renderCampaignPanel(slot, id, { onSelect } = {}) {
  append(clear(slot), h("p", { className: "loading" }, "Loading the campaign…"));
  slot.dataset.loading = id;
  let campaign;
  try {
    campaign = await get(`campaigns/${encodeURIComponent(id)}`);
  } catch (error) {
    if (slot.dataset.loading === id) clear(slot);
    throw error;
  }
  // Another campaign was chosen while this one loaded: that one is shown.
  if (slot.dataset.loading !== id) return campaign;
  const actions = h("div", { className: "action-slot" });
  const staff = isStaff();
  const indicators = (campaign.indicators && campaign.indicators.items) || [];
  const indicatorItems = indicators.map((item) =>
    h(
      "li",
      { dataset: { indicatorId: item.id } },
      values(item.values || []),
      h("span", { className: "meta" }, ` ${when(item.first_seen)} – ${when(item.last_seen)} `),
      h("code", { className: "object-id" }, item.id),
      staff ? [" ", revokeIndicatorButton(actions, item.id)] : null,
    ),
  );
  const targetItems = (campaign.targets || []).map((target) => h("li", {}, typeof target === "string" ? target : target.name || JSON.stringify(target)));
  const timelineItems = (campaign.timeline || []).map((entry) =>
    h(
      "li",
      {},
      h("strong", {}, entry.source || "unnamed source"),
      ` ${when(entry.first_seen)} – ${when(entry.last_seen)}, ${entry.values} value${entry.values === 1 ? "" : "s"}`,
      entry.producers && entry.producers.length ? ` (by ${entry.producers.join(", ")})` : "",
    ),
  );
  const relatedItems = (campaign.related || []).map((link) => {
    const other = link.campaign || {};
    const open = onSelect
      ? h("button", { type: "button", className: "link-button", onclick: () => onSelect(other.id) }, other.name || other.id)
      : h("a", { href: `#/campaigns/${encodeURIComponent(other.id)}` }, other.name || other.id);
    return h(
      "li",
      { dataset: { campaignId: other.id, strength: link.strength }, className: `related related-${link.strength}` },
      open,
      h("span", { className: `strength strength-${link.strength}` }, ` ${STRENGTH_WORD[link.strength] || link.strength}`),
      ` · ${link.evidence} evidence · confidence ${link.confidence} · ${link.count} shared: `,
      values(link.shared || []),
      link.count > (link.shared || []).length ? " …" : "",
    );
  });
  const shownIndicators = campaign.indicators ? campaign.indicators.total : indicators.length;
  const panel = h(
    "section",
    { className: "campaign-panel", dataset: { testid: "campaign-panel", campaignId: campaign.id }, "aria-labelledby": "campaign-name" },
    h("h2", { id: "campaign-name", dataset: { testid: "campaign-name" } }, campaign.name || campaign.id),
    h(
      "p",
      { className: "meta" },
      tlpBadge(campaign.tlp),
      ` ${when(campaign.first_seen)} – ${when(campaign.last_seen)} · ${campaign.values} values`,
      campaign.kind ? ` · ${campaign.kind}` : "",
      campaign.producer ? ` · from ${campaign.producer}` : "",
      campaign.complete === false ? " · partial view (very large campaign)" : "",
    ),
    onSelect ? h("p", {}, h("a", { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, "Open on its own page")) : null,
    h("h3", {}, `Indicators (${shownIndicators})`),
    list(h("ul", { dataset: { testid: "campaign-indicators" } }), indicatorItems, "No indicator you may see."),
    actions,
    h("h3", {}, "Targets"),
    list(h("ul", { dataset: { testid: "campaign-targets" } }), targetItems, "No target recorded."),
    h("h3", {}, "Timeline"),
    list(h("ul", { dataset: { testid: "campaign-timeline" } }), timelineItems, "No dated source."),
    h("h3", {}, "Related campaigns"),
    list(h("ul", { dataset: { testid: "campaign-related" } }), relatedItems, "No related campaign you may see."),
  );
  append(clear(slot), panel);
  return campaign;
}

export async function renderCampaignPage(main, id) {
  const slot = h("div", {});
  append(main, h("h1", { className: "page-title" }, "Campaign"), h("p", {}, h("a", { href: "#/graph" }, "← Campaign graph")), slot);
  await guarded(() => renderCampaignPanel(slot, id));
}
