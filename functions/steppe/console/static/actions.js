// Revoke an indicator or a submission, declare a false positive: each asks a reason first.

import { post } from "./api.js";
import { append, clearError, guarded, h, label, say } from "./dom.js";

// Open the one reason form in `slot`; `act(reason)` runs when confirmed.
export function askReason(slot, title, act) {
  for (const open of document.querySelectorAll("[data-reason-form]")) open.remove();
  const reason = h("input", { type: "text", required: true, maxlength: "1000", dataset: { testid: "reason" } });
  const form = h(
    "form",
    { className: "reason-form", dataset: { reasonForm: "" } },
    h("p", { className: "reason-title" }, title),
    label("Reason", reason, "kept with the change, for the audit"),
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
    const done = await guarded(() => act(reason.value.trim()));
    if (done !== undefined) form.remove();
  });
  append(slot, form);
  reason.focus();
  return form;
}

export function outcome(slot, text) {
  say(text);
  append(slot, h("p", { className: "done", dataset: { testid: "action-done" } }, text));
}

export function revokeIndicatorButton(slot, indicatorId, onDone) {
  return h(
    "button",
    {
      type: "button",
      className: "secondary small",
      dataset: { testid: "revoke-indicator", indicatorId },
      onclick: () =>
        askReason(slot, `Revoke ${indicatorId}`, async (reason) => {
          const { body } = await post(`indicators/${encodeURIComponent(indicatorId)}/revoke`, { reason });
          outcome(slot, body.message || `${indicatorId} revoked`);
          if (onDone) onDone(body);
          return body;
        }),
    },
    "Revoke",
  );
}

export function revokeSubmissionButton(slot, submissionId, onDone) {
  return h(
    "button",
    {
      type: "button",
      className: "secondary",
      dataset: { testid: "revoke-submission" },
      onclick: () =>
        askReason(slot, `Revoke every indicator of submission ${submissionId}`, async (reason) => {
          const { body } = await post(`submissions/${encodeURIComponent(submissionId)}/revoke`, { reason });
          const text =
            body.status === "queued"
              ? `revocation queued in ${body.chunks} chunks`
              : `revoked ${body.counts.revoked}, already revoked ${body.counts.already_revoked}`;
          const said = `Submission ${submissionId}: ${text}`;
          outcome(slot, said);
          if (onDone) onDone(body, said); // a reload that redraws the slot shows `said` again
          return body;
        }),
    },
    "Revoke the submission",
  );
}

export function declareFalsePositive(slot, value, onDone) {
  return askReason(slot, `Declare ${value} a false positive`, async (reason) => {
    const { body } = await post("false-positives", { value, reason });
    outcome(slot, `${value} is a false positive; ${body.indicators.revoked} indicators revoked`);
    if (onDone) onDone(body);
    return body;
  });
}

export function falsePositiveButton(slot, value, onDone) {
  return h(
    "button",
    {
      type: "button",
      className: "secondary small",
      dataset: { testid: "false-positive", value },
      onclick: () => declareFalsePositive(slot, value, onDone),
    },
    "False positive",
  );
}
