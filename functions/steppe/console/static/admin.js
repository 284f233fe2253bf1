// Administer (admin role): partners and their keys, collections, feeds, push destinations, the audit trail.

import { call, get } from "./api.js";
import { TLP_LEVELS, append, clear, clearError, guarded, h, label, say, select, showError, when } from "./dom.js";
import { isAdmin, me } from "./session.js";

const FEED_FORMATS = ["text", "csv", "stix", "suricata-iprep", "suricata-dataset", "zeek", "misp"];
const ROLES = ["partner", "analyst", "admin"];

const encode = encodeURIComponent;

// The one place a new secret is shown: replaced by the next, never kept.
function showSecret(slot, what, secret) {
  append(clear(slot), 
    h(
      "div",
      { className: "new-key card" },
      h("p", {}, `${what}. It is shown once: copy it now.`),
      h("output", { dataset: { testid: "new-key" } }, secret),
    ),
  );
}

function table(headings, rows) {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

// An inline "are you sure" with the [data-testid=confirm] button.
function confirmFirst(slot, question, act) {
  for (const open of document.querySelectorAll("[data-confirm-form]")) open.remove();
  const form = h(
    "form",
    { className: "reason-form", dataset: { confirmForm: "" } },
    h("p", {}, question),
    h(
      "div",
      { className: "buttons" },
      h("button", { type: "submit", dataset: { testid: "confirm" } }, "Confirm"),
      h("button", { type: "button", className: "secondary", onclick: () => form.remove() }, "Cancel"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    await guarded(act);
    form.remove();
  });
  append(slot, form);
  form.querySelector("button").focus();
}

function multiSelect(options, attributes) {
  const element = select(options, { ...attributes, multiple: true, size: String(Math.min(5, Math.max(2, options.length))) });
  return element;
}

function preselect(selectElement, values) {
  const wanted = new Set(values);
  for (const option of selectElement.options) option.selected = wanted.has(option.value);
  return selectElement;
}

// An inline form in `slot` that changes one thing: its fields, then Save (the answer refreshes).
function editForm(slot, title, testid, fields, save) {
  for (const open of slot.querySelectorAll("[data-edit-form]")) open.remove();
  const form = h(
    "form",
    { className: "inline-form card", "aria-label": title, dataset: { editForm: "", testid } },
    h("p", {}, title),
    ...fields,
    h(
      "div",
      { className: "field buttons" },
      h("button", { type: "submit", dataset: { testid: "save" } }, "Save"),
      h("button", { type: "button", className: "secondary", onclick: () => form.remove() }, "Cancel"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    if (await guarded(save)) form.remove();
  });
  append(slot, form);
  form.querySelector("input, select").focus();
}

function chosen(selectElement) {
  return [...selectElement.selectedOptions].map((option) => option.value);
}

async function section(dataset, title, build) {
  const body = h("div", {});
  const heading = `${dataset.testid}-title`;
  const element = h("section", { className: "card admin-section", dataset, "aria-labelledby": heading }, h("h2", { id: heading }, title), body);
  const refresh = async () => {
    const content = await guarded(() => build(refresh));
    if (content) append(clear(body), content);
  };
  await refresh();
  return element;
}

function partnersSection(secretSlot, collections) {
  return async (refresh) => {
    const { partners } = await get("admin/partners");
    const actions = h("div", { className: "action-slot" });
    const collectionOptions = collections.map((c) => [c.id, c.title]);
    const name = h("input", { type: "text", required: true, maxlength: "64", dataset: { testid: "partner-name" } });
    const role = select(ROLES, { dataset: { testid: "partner-role" } }, "partner");
    const tlp = select([["", "default for the role"], ...TLP_LEVELS.map((l) => [l, l.toUpperCase()])], { dataset: { testid: "partner-tlp" } });
    const read = multiSelect(collectionOptions, { dataset: { testid: "partner-read" } });
    const write = multiSelect(collectionOptions, { dataset: { testid: "partner-write" } });
    const add = h(
      "form",
      { className: "inline-form", "aria-label": "Add a partner" },
      label("Name", name),
      label("Role", role),
      label("Clearance", tlp),
      label("May read", read),
      label("May write", write),
      h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "partner-add" } }, "Add partner")),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const json = { name: name.value.trim(), role: role.value, read: chosen(read), write: chosen(write) };
      if (tlp.value) json.tlp = tlp.value;
      const answer = await guarded(() => call("admin/partners", { method: "POST", json }));
      if (answer) {
        showSecret(secretSlot, `The key of the new partner ${answer.body.name}`, answer.body.key);
        await refresh();
      }
    });
    const title = (id) => (collections.find((c) => c.id === id) || {}).title || id;
    const rows = partners.map((partner) =>
      h(
        "tr",
        { dataset: { partner: partner.name } },
        h("th", { scope: "row" }, partner.name),
        h("td", {}, partner.role),
        h("td", {}, partner.tlp.toUpperCase()),
        h("td", {}, partner.read.map(title).join(", ")),
        h("td", {}, partner.write.map(title).join(", ")),
        h(
          "td",
          { className: "buttons" },
          h("button", {
            type: "button",
            className: "secondary small",
            dataset: { testid: "rotate-key" },
            onclick: () =>
              confirmFirst(actions, `Issue a new key for ${partner.name}? Its older keys stop working.`, async () => {
                const { body } = await call(`admin/partners/${encode(partner.name)}/rotate`, { method: "POST" });
                showSecret(secretSlot, `The new key of ${partner.name}`, body.key);
              }),
          }, "Rotate key"),
          h("button", {
            type: "button",
            className: "secondary small",
            dataset: { testid: "revoke-keys" },
            onclick: () =>
              confirmFirst(actions, `Revoke every key of ${partner.name}?`, async () => {
                const { body } = await call(`admin/partners/${encode(partner.name)}/revoke`, { method: "POST" });
                say(`${body.revoked_keys} key(s) of ${body.name} revoked`);
              }),
          }, "Revoke keys"),
          h("button", {
            type: "button",
            className: "secondary small",
            dataset: { testid: "partner-change" },
            onclick: () => {
              const newRole = select(ROLES, {}, partner.role);
              const newTlp = select(TLP_LEVELS.map((l) => [l, l.toUpperCase()]), {}, partner.tlp);
              const newRead = preselect(multiSelect(collectionOptions, {}), partner.read);
              const newWrite = preselect(multiSelect(collectionOptions, {}), partner.write);
              editForm(
                actions,
                `Change ${partner.name}'s role, clearance or rights`,
                "partner-edit",
                [label("Role", newRole), label("Clearance", newTlp), label("May read", newRead), label("May write", newWrite)],
                async () => {
                  const json = { role: newRole.value, tlp: newTlp.value, read: chosen(newRead), write: chosen(newWrite) };
                  await call(`admin/partners/${encode(partner.name)}`, { method: "PATCH", json });
                  say(`${partner.name} changed`);
                  await refresh();
                  return true;
                },
              );
            },
          }, "Change"),
          h("button", {
            type: "button",
            className: "secondary small",
            dataset: { testid: "partner-delete" },
            onclick: () =>
              confirmFirst(actions, `Delete ${partner.name} and every key it has?`, async () => {
                await call(`admin/partners/${encode(partner.name)}`, { method: "DELETE" });
                say(`${partner.name} deleted`);
                await refresh();
              }),
          }, "Delete"),
        ),
      ),
    );
    return [table(["Partner", "Role", "Clearance", "Reads", "Writes", ""], rows), actions, add];
  };
}

function collectionsSection() {
  return async (refresh) => {
    const { collections } = await get("admin/collections");
    const actions = h("div", { className: "action-slot" });
    const title = h("input", { type: "text", required: true, dataset: { testid: "collection-title" } });
    const description = h("input", { type: "text" });
    const unmarked = select(TLP_LEVELS, { dataset: { testid: "collection-tlp" } }, "green");
    const add = h(
      "form",
      { className: "inline-form", "aria-label": "Add a collection" },
      label("Title", title),
      label("Description", description),
      label("TLP of unmarked objects", unmarked),
      h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "collection-add" } }, "Add collection")),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const json = { title: title.value.trim(), description: description.value, unmarked_tlp: unmarked.value };
      if (await guarded(() => call("admin/collections", { method: "POST", json }))) await refresh();
    });
    const rows = collections.map((c) =>
      h(
        "tr",
        { dataset: { collectionId: c.id } },
        h("th", { scope: "row" }, c.title, c.default ? " (default)" : ""),
        h("td", {}, h("code", {}, c.id)),
        h("td", {}, c.description || ""),
        h("td", {}, c.unmarked_tlp.toUpperCase()),
        h("td", {}, c.active_only ? "active only" : "all"),
        h(
          "td",
          { className: "buttons" },
          h("button", {
            type: "button",
            className: "secondary small",
            dataset: { testid: "collection-change" },
            onclick: () => {
              const newTitle = h("input", { type: "text", required: true, value: c.title });
              const newDescription = h("input", { type: "text", value: c.description || "" });
              const newTlp = select(TLP_LEVELS, {}, c.unmarked_tlp);
              const activeOnly = h("input", { type: "checkbox", checked: Boolean(c.active_only) });
              editForm(
                actions,
                `Change the collection ${c.title}`,
                "collection-edit",
                [
                  label("Title", newTitle),
                  label("Description", newDescription),
                  label("TLP of unmarked objects", newTlp),
                  label("Serve active indicators only", activeOnly),
                ],
                async () => {
                  const json = {
                    title: newTitle.value.trim(),
                    description: newDescription.value,
                    unmarked_tlp: newTlp.value,
                    active_only: activeOnly.checked,
                  };
                  await call(`admin/collections/${encode(c.id)}`, { method: "PATCH", json });
                  say(`${json.title} changed`);
                  await refresh();
                  return true;
                },
              );
            },
          }, "Change"),
        ),
      ),
    );
    return [table(["Title", "Id", "Description", "Unmarked TLP", "Serves", ""], rows), actions, add];
  };
}

function feedsSection(secretSlot) {
  return async (refresh) => {
    const { feeds } = await get("admin/feeds");
    const actions = h("div", { className: "action-slot" });
    const name = h("input", { type: "text", required: true, dataset: { testid: "feed-name" } });
    const format = select(FEED_FORMATS, { dataset: { testid: "feed-format" } }, "text");
    const tlp = select(TLP_LEVELS, { dataset: { testid: "feed-tlp" } }, "green");
    const add = h(
      "form",
      { className: "inline-form", "aria-label": "Add a feed" },
      label("Name", name),
      label("Format", format),
      label("Highest TLP", tlp),
      h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "feed-add" } }, "Add feed")),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const answer = await guarded(() => call("admin/feeds", { method: "POST", json: { name: name.value.trim(), format: format.value, tlp: tlp.value } }));
      if (answer) {
        showSecret(secretSlot, `The URL of the feed ${answer.body.name} (its token is in it)`, answer.body.url);
        await refresh();
      }
    });
    const rows = feeds.map((feed) =>
      h(
        "tr",
        { dataset: { feed: feed.name } },
        h("th", { scope: "row" }, feed.name),
        h("td", {}, feed.format),
        h("td", {}, feed.tlp.toUpperCase()),
        h("td", {}, feed.types.join(", ")),
        h("td", {}, String(feed.min_score)),
        h(
          "td",
          { className: "buttons" },
          h("button", {
            type: "button",
            className: "secondary small",
            onclick: () =>
              confirmFirst(actions, `Issue a new token for the feed ${feed.name}? Its old URL stops working.`, async () => {
                const { body } = await call(`admin/feeds/${encode(feed.name)}/rotate`, { method: "POST" });
                showSecret(secretSlot, `The new URL of the feed ${feed.name}`, body.url);
              }),
          }, "New token"),
          h("button", {
            type: "button",
            className: "secondary small",
            onclick: () =>
              confirmFirst(actions, `Remove the feed ${feed.name}?`, async () => {
                await call(`admin/feeds/${encode(feed.name)}`, { method: "DELETE" });
                await refresh();
              }),
          }, "Remove"),
        ),
      ),
    );
    return [table(["Feed", "Format", "Highest TLP", "Types", "Min score", ""], rows), actions, add];
  };
}

function pushSection(secretSlot) {
  return async (refresh) => {
    const { destinations } = await get("admin/push");
    const actions = h("div", { className: "action-slot" });
    const name = h("input", { type: "text", required: true, dataset: { testid: "push-name" } });
    const url = h("input", { type: "url", required: true, placeholder: "an https:// address", dataset: { testid: "push-url" } });
    const tlp = select(TLP_LEVELS, { dataset: { testid: "push-tlp" } }, "green");
    const add = h(
      "form",
      { className: "inline-form", "aria-label": "Add a webhook" },
      label("Name", name),
      label("Webhook URL", url),
      label("Highest TLP", tlp),
      h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "push-add" } }, "Add webhook")),
    );
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const json = { name: name.value.trim(), kind: "webhook", url: url.value.trim(), tlp: tlp.value };
      const answer = await guarded(() => call("admin/push", { method: "POST", json }));
      if (answer) {
        if (answer.body.secret) showSecret(secretSlot, `The signing key of the webhook ${answer.body.name}`, answer.body.secret);
        await refresh();
      }
    });
    const sentinel = sentinelForm(refresh);
    const rows = destinations.map((d) =>
      h(
        "tr",
        { dataset: { destination: d.name } },
        h("th", { scope: "row" }, d.name),
        h("td", {}, d.kind),
        h("td", {}, d.tlp.toUpperCase()),
        h("td", {}, d.settings.url || d.settings.workspace_id || ""),
        h(
          "td",
          { className: "buttons" },
          d.kind === "webhook"
            ? h("button", {
                type: "button",
                className: "secondary small",
                onclick: () =>
                  confirmFirst(actions, `Issue a new signing key for ${d.name}?`, async () => {
                    const { body } = await call(`admin/push/${encode(d.name)}/rotate`, { method: "POST", json: {} });
                    if (body.secret) showSecret(secretSlot, `The new signing key of ${d.name}`, body.secret);
                  }),
              }, "New key")
            : null,
          h("button", {
            type: "button",
            className: "secondary small",
            onclick: () =>
              confirmFirst(actions, `Remove the push destination ${d.name}?`, async () => {
                await call(`admin/push/${encode(d.name)}`, { method: "DELETE" });
                await refresh();
              }),
          }, "Remove"),
        ),
      ),
    );
    return [table(["Destination", "Kind", "Highest TLP", "Where", ""], rows), actions, add, sentinel];
  };
}

// A Microsoft Sentinel workspace (its app registration's secret is sent once, never shown back).
function sentinelForm(refresh) {
  const guid = { type: "text", required: true, pattern: "[0-9a-fA-F-]{36}", placeholder: "00000000-0000-0000-0000-000000000000" };
  const name = h("input", { type: "text", required: true, dataset: { testid: "sentinel-name" } });
  const tenant = h("input", { ...guid, dataset: { testid: "sentinel-tenant" } });
  const client = h("input", { ...guid, dataset: { testid: "sentinel-client" } });
  const secret = h("input", { type: "password", required: true, autocomplete: "off", dataset: { testid: "sentinel-secret" } });
  const workspace = h("input", { ...guid, dataset: { testid: "sentinel-workspace" } });
  const tlp = select(TLP_LEVELS, {}, "green");
  const form = h(
    "form",
    { className: "inline-form", "aria-label": "Add a Microsoft Sentinel workspace" },
    label("Name", name),
    label("Entra tenant id", tenant),
    label("App (client) id", client),
    label("Client secret", secret),
    label("Workspace id", workspace),
    label("Highest TLP", tlp),
    h("div", { className: "field" }, h("button", { type: "submit", dataset: { testid: "sentinel-add" } }, "Add Sentinel")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const json = {
      name: name.value.trim(),
      kind: "sentinel",
      tenant_id: tenant.value.trim(),
      client_id: client.value.trim(),
      client_secret: secret.value,
      workspace_id: workspace.value.trim(),
      tlp: tlp.value,
    };
    secret.value = "";
    if (await guarded(() => call("admin/push", { method: "POST", json }))) await refresh();
  });
  return form;
}

function auditSection() {
  const query = { partner: "", limit: "100" };
  return async (refresh) => {
    const { records } = await get("admin/audit", [["partner", query.partner], ["limit", query.limit]]);
    const partner = h("input", { type: "text", value: query.partner, dataset: { testid: "audit-partner" } });
    const filter = h(
      "form",
      { className: "inline-form", "aria-label": "Filter the audit trail" },
      label("Partner", partner),
      h("div", { className: "field" }, h("button", { type: "submit" }, "Show")),
    );
    filter.addEventListener("submit", async (event) => {
      event.preventDefault();
      query.partner = partner.value.trim();
      await refresh();
    });
    const rows = records.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, when(r.time)),
        h("th", { scope: "row" }, r.partner || ""),
        h("td", {}, `${r.method} ${r.path}`),
        h("td", {}, String(r.status)),
        h("td", {}, r.collection || ""),
        h("td", {}, r.objects === null || r.objects === undefined ? "" : String(r.objects)),
      ),
    );
    return [filter, records.length ? table(["When", "Partner", "Request", "Status", "Collection", "Objects"], rows) : h("p", {}, "No TAXII request recorded.")];
  };
}

export async function renderAdmin(main) {
  append(main, h("h1", {}, "Administer"));
  if (!isAdmin()) {
    const who = me() || {};
    const text = `Not allowed: administering steppe needs the admin role; ${who.partner || "you"} ${who.role ? `is ${who.role}` : "are not signed in"}.`;
    append(main, h("p", { dataset: { testid: "not-allowed" } }, text));
    showError(new Error(text));
    return;
  }
  const secretSlot = h("div", { "aria-live": "polite" });
  const collections = (await guarded(() => get("admin/collections"))) || { collections: [] };
  append(main, 
    secretSlot,
    await section({ testid: "admin-partners" }, "Partners and keys", partnersSection(secretSlot, collections.collections)),
    await section({ testid: "admin-collections" }, "Collections", collectionsSection()),
    await section({ testid: "admin-feeds" }, "Feeds", feedsSection(secretSlot)),
    await section({ testid: "admin-push" }, "Push destinations", pushSection(secretSlot)),
    await section({ testid: "admin-audit" }, "Audit trail: who pulled what", auditSection()),
  );
}
