// Submit a JSON report or a CSV; see errors where they are; follow a submission; revoke.

import { apiUrl, call, get, storedKey } from "./api.js";
import { declareFalsePositive, outcome, revokeIndicatorButton, revokeSubmissionButton } from "./actions.js";
import { TLP_LEVELS, append, clear, clearError, guarded, h, label, say, select, showError, when } from "./dom.js";
import { onLeave } from "./pages.js";
import { isStaff } from "./session.js";

const FALLBACK_KINDS = ["brute-force", "ddos", "defacement", "malware-c2", "phishing", "scanning"];
const POLL_MS = 1000;

// The attack kinds the API takes, from its OpenAPI document (public), else the known ones.
async function attackKinds() {
  try {
    const response = await fetch(apiUrl("openapi.json"), { credentials: "omit" });
    const document = await response.json();
    const kinds = document.components.schemas.Observations.properties.attack.properties.kind.enum;
    if (Array.isArray(kinds) && kinds.length) return kinds;
  } catch {
    // the fallback below
  }
  return FALLBACK_KINDS;
}

// "row 3, column value" -> {row: 3, column: "value"}; "row 9" -> {row: 9}; else {}.
export function placeOf(where) {
  const found = /^row (\d+)(?:, column (.+))?$/.exec(String(where || "").trim());
  if (!found) return {};
  return { row: Number(found[1]), column: found[2] || null };
}

function csvLines(text) {
  return text.split(/\r\n|\n|\r/);
}

function errorList(error, csvText) {
  const entries = error.errors && error.errors.length ? error.errors : [{ where: error.where, message: error.description }];
  const lines = csvText === null ? null : csvLines(csvText);
  return h(
    "ul",
    { className: "submit-errors", "aria-label": "What is wrong, and where" },
    entries.map((entry) => {
      const place = placeOf(entry.where);
      const row = lines && place.row ? lines[place.row - 1] : undefined;
      return h(
        "li",
        { dataset: { testid: "submit-error", row: place.row, column: place.column, where: entry.where || undefined } },
        entry.where ? h("strong", {}, `${entry.where}: `) : null,
        entry.message || "",
        row !== undefined
          ? h("pre", { className: "csv-row" }, h("span", { className: "line-number" }, `${place.row} `), h("mark", { dataset: { testid: "submit-error-row" } }, row))
          : null,
      );
    }),
  );
}

export async function renderSubmit(main) {
  const file = h("input", { type: "file", accept: ".json,.csv,application/json,text/csv", required: true, dataset: { testid: "submit-file" } });
  const kinds = await attackKinds();
  const kind = select([["", "choose (CSV only)"], ...kinds.map((k) => [k, k])], { dataset: { testid: "submit-kind" } });
  const tlp = select([["", "default (CSV only)"], ...TLP_LEVELS.map((level) => [level, level.toUpperCase()])], { dataset: { testid: "submit-tlp" } });
  const campaign = h("input", { type: "text", maxlength: "200", dataset: { testid: "submit-campaign" } });
  const errors = h("div", { className: "submit-error-slot" });
  const form = h(
    "form",
    { className: "card" },
    h("h1", {}, "Submit a report"),
    h("p", {}, "A JSON report (its fields inside it) or a CSV of observables (type,value,role,… with a header row; the report fields below)."),
    label("Report file", file),
    h(
      "fieldset",
      {},
      h("legend", {}, "CSV report fields"),
      label("Attack kind", kind),
      label("TLP", tlp),
      label("Campaign name", campaign),
    ),
    h("button", { type: "submit", dataset: { testid: "submit-go" } }, "Submit"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    clear(errors);
    const chosen = file.files && file.files[0];
    if (!chosen) {
      showError(new Error("choose a .json or .csv file to submit"));
      return;
    }
    const text = await chosen.text();
    const isCsv = /\.csv$/i.test(chosen.name) || chosen.type === "text/csv";
    const query = isCsv ? [["kind", kind.value], ["tlp", tlp.value], ["campaign", campaign.value.trim()]] : [];
    say(`Submitting ${chosen.name}…`);
    try {
      const { body } = await call("observations", {
        method: "POST",
        body: text,
        contentType: isCsv ? "text/csv" : "application/json",
        query,
      });
      window.location.hash = `#/submissions/${encodeURIComponent(body.id)}`;
    } catch (error) {
      say("");
      showError(error);
      if (error.status === 400 || error.status === 413 || error.status === 415) append(errors, errorList(error, isCsv ? text : null));
    }
  });
  const fpSlot = h("div", { className: "action-slot" });
  const fpValue = h("input", { type: "text", dataset: { testid: "false-positive-value" } });
  const fpForm = isStaff()
    ? h(
        "section",
        { className: "card", "aria-labelledby": "fp-title" },
        h("h2", { id: "fp-title" }, "Declare a false positive"),
        label("Value", fpValue, "an address, domain, URL or hash that should never be published"),
        h("p", {}, h("button", {
          type: "button",
          className: "secondary",
          dataset: { testid: "false-positive" },
          onclick: (event) => {
            const value = fpValue.value.trim();
            if (!value) {
              showError(new Error("give the value to declare a false positive"));
              return;
            }
            event.currentTarget.dataset.value = value;
            declareFalsePositive(fpSlot, value);
          },
        }, "False positive…")),
        fpSlot,
      )
    : null;
  append(main, form, errors, fpForm, await recentSubmissions());
}

async function recentSubmissions() {
  const answer = await guarded(() => get("submissions", [["limit", "20"]]));
  if (!answer || !answer.submissions.length) return null;
  return h(
    "section",
    { className: "card" },
    h("h2", {}, "Recent submissions"),
    h(
      "ul",
      { dataset: { testid: "submission-list" } },
      answer.submissions.map((s) =>
        h("li", {}, h("a", { href: `#/submissions/${encodeURIComponent(s.id)}` }, s.id), ` ${when(s.created)} · ${s.kind || "?"} · ${s.status} · ${s.observables} observables`),
      ),
    ),
  );
}

function progressOf(submission) {
  const chunks = submission.chunks || { done: 0, total: 0 };
  const element = h(
    "div",
    { className: "progress", dataset: { testid: "submit-progress", done: chunks.done, total: chunks.total, status: submission.status } },
    h("label", { for: "submit-progress-bar" }, `${submission.status}: ${chunks.done} of ${chunks.total} parts done`),
    h("progress", { id: "submit-progress-bar", max: String(Math.max(1, chunks.total)), value: String(chunks.done) }),
  );
  return element;
}

async function downloadBundle(event, id) {
  event.preventDefault();
  clearError();
  const link = event.currentTarget;
  await guarded(async () => {
    const response = await call(`submissions/${encodeURIComponent(id)}/bundle`, { raw: true });
    const blob = new Blob([await response.arrayBuffer()], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const save = h("a", { href: url, download: `${id}-bundle.json` });
    append(document.body, save);
    save.click();
    save.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(`Bundle of ${id} downloaded`);
    link.dataset.downloaded = "true";
  });
}

function describe(slot, submission, reload, notice) {
  const counts = submission.counts || {};
  const staff = isStaff();
  const actions = h("div", { className: "action-slot" });
  const objects = submission.objects || {};
  const indicators = [...(objects.created || []), ...(objects.updated || []), ...(objects.unchanged || [])].filter((id) => id.startsWith("indicator--"));
  const finished = submission.status !== "pending";
  append(clear(slot), 
    h("h1", {}, `Submission ${submission.id}`),
    h(
      "p",
      { className: "meta" },
      `${when(submission.created)} · by ${submission.submitted_by} · ${submission.kind || "?"} · TLP:${String(submission.tlp || "?").toUpperCase()} · ${submission.observables} observables · into ${(submission.collection && submission.collection.title) || ""}`,
    ),
    progressOf(submission),
    finished
      ? h("p", {}, `${counts.objects || 0} STIX objects: ${counts.created || 0} created, ${counts.updated || 0} updated, ${counts.unchanged || 0} unchanged, ${counts.false_positive_skipped || 0} false positives left out.`)
      : null,
    (submission.errors || []).length ? h("ul", { className: "submission-failures" }, submission.errors.map((e) => h("li", {}, `part ${e.chunk}: ${e.message}`))) : null,
    submission.revoked ? h("p", { className: "badge fp" }, `Revoked by ${submission.revoked.analyst}: ${submission.revoked.reason}`) : null,
    h(
      "p",
      {},
      h(
        "a",
        { href: apiUrl(`submissions/${encodeURIComponent(submission.id)}/bundle`), dataset: { testid: "submit-bundle" }, onclick: (event) => downloadBundle(event, submission.id) },
        "Download the STIX bundle",
      ),
      " ",
      staff && finished ? revokeSubmissionButton(actions, submission.id, (_, said) => reload(said)) : null,
    ),
    actions,
    indicators.length
      ? [
          h("h2", {}, `Indicators (${indicators.length})`),
          h(
            "ul",
            { dataset: { testid: "submission-indicators" } },
            indicators.map((id) => h("li", { dataset: { indicatorId: id } }, h("code", {}, id), staff ? [" ", revokeIndicatorButton(actions, id)] : null)),
          ),
        ]
      : null,
  );
  if (notice) outcome(actions, notice);
  return finished;
}

export async function renderSubmission(main, id) {
  const slot = h("div", { className: "card" });
  append(main, h("p", {}, h("a", { href: "#/submit" }, "← Submit")), slot);
  let timer = null;
  let stopped = false;
  onLeave(() => {
    stopped = true;
    if (timer) window.clearTimeout(timer);
  });
  // `notice`: what the last action said, shown again in the redrawn page
  const poll = async (notice) => {
    if (stopped || !storedKey()) return;
    const submission = await guarded(() => get(`submissions/${encodeURIComponent(id)}`));
    if (!submission || stopped) return;
    const finished = describe(slot, submission, poll, notice);
    if (!finished) timer = window.setTimeout(poll, POLL_MS);
    else if (!notice) say(`Submission ${id}: ${submission.status}`);
  };
  await poll();
}
