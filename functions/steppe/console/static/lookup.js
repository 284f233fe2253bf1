// Look up: paste values or free text; per value, where and when it was seen, in which campaigns.

import { call } from "./api.js";
import { falsePositiveButton } from "./actions.js";
import { append, clear, clearError, guarded, h, label, say, when } from "./dom.js";
import { isStaff } from "./session.js";

let lastText = "";
const MATCH_TEXT = {
  exact: "exact match",
  within: "within a network seen in it",
  contains: "contains values seen in it",
};

function campaignItem(campaign) {
  return h(
    "li",
    { dataset: { testid: "lookup-campaign", campaignId: campaign.id, match: campaign.match } },
    h("a", { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, campaign.name || campaign.id),
    ` (${MATCH_TEXT[campaign.match] || campaign.match}) ${when(campaign.first_seen)} – ${when(campaign.last_seen)}`,
  );
}

function weakItem(weak) {
  const campaign = weak.campaign || {};
  return h(
    "li",
    { dataset: { testid: "lookup-weak", campaignId: campaign.id } },
    h("span", { className: "badge weak" }, "Weak evidence"),
    " ",
    h("a", { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, campaign.name || campaign.id),
    `: ${weak.description}`,
    weak.sample && weak.sample.length ? [" (", weak.sample.map((value, index) => [index ? ", " : "", h("code", {}, value)]), ")"] : "",
  );
}

function resultItem(result, actions) {
  const item = h("li", {
    className: `lookup-result ${result.found ? "found" : "not-found"}`,
    dataset: { testid: "lookup-result", value: result.value, found: String(Boolean(result.found)) },
  });
  append(item, h("h3", {}, h("code", {}, result.value), result.type ? h("span", { className: "type" }, ` ${result.type}`) : ""));
  if (!result.recognised) {
    append(item, h("p", {}, result.problem || "not a value steppe can look up"));
    return item;
  }
  if (result.false_positive) {
    append(item, h("p", { className: "badge fp" }, `Declared a false positive: ${result.false_positive.reason || "no reason given"} (since ${when(result.false_positive.since)})`));
  }
  if (result.found) {
    append(item, 
      h("p", {}, `Seen ${result.count} time${result.count === 1 ? "" : "s"}, first ${when(result.first_seen)}, last ${when(result.last_seen)}.`),
      result.sources && result.sources.length ? h("p", {}, "Sources: ", result.sources.join("; ")) : null,
      result.producers && result.producers.length ? h("p", {}, "Producers: ", result.producers.join("; ")) : null,
    );
    const matches = (result.matches || []).filter((match) => match.match !== "exact");
    if (matches.length) {
      append(item, h("ul", { className: "matches" }, matches.map((match) => h("li", {}, match.description || `${match.match} ${match.value}`))));
    }
  } else {
    append(item, h("p", {}, "Not seen in anything you may read."));
  }
  const campaigns = result.campaigns || [];
  if (campaigns.length) append(item, h("h4", {}, "Campaigns"), h("ul", { className: "campaigns" }, campaigns.map(campaignItem)));
  const weak = result.weak_evidence || [];
  if (weak.length) append(item, h("h4", {}, "Weak evidence (not a match)"), h("ul", { className: "weak-list" }, weak.map(weakItem)));
  if (isStaff() && !result.false_positive) append(item, h("p", {}, falsePositiveButton(actions, result.value)));
  return item;
}

export async function renderLookup(main) {
  const text = h("textarea", { rows: "8", spellcheck: "false", dataset: { testid: "lookup-text" } });
  text.value = lastText;
  const results = h("div", { className: "lookup-results", "aria-live": "polite" });
  const actions = h("div", { className: "action-slot" });
  const form = h(
    "form",
    { className: "card" },
    h("h1", {}, "Look up"),
    label("Values or text", text, "IPs, CIDRs, domains, URLs, hashes, AS numbers: one per line, or paste a report (defanged values like 198.51.100[.]7 are understood)."),
    h("button", { type: "submit", dataset: { testid: "lookup-submit" } }, "Look up"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    lastText = text.value;
    append(clear(results), h("p", {}, "Looking up…"));
    const answer = await guarded(() => call("observables/lookup", { method: "POST", json: { text: text.value, detail: "full" } }));
    clear(results);
    if (!answer) return;
    const body = answer.body;
    const extracted = body.values || (body.results || []).map((r) => r.value);
    append(results, 
      h("p", { dataset: { testid: "lookup-summary" } }, `${extracted.length} value${extracted.length === 1 ? "" : "s"} in the text, ${body.found} seen.`),
      h("ul", { className: "results" }, (body.results || []).map((result) => resultItem(result, actions))),
    );
    say(`${body.found} of ${extracted.length} values seen`);
  });
  append(main, form, actions, results);
  text.focus();
}
