// The console's shell: sign-in state, navigation, and the hash routes that pick a page.

import { append, clear, clearError, h, say, showError } from "./dom.js";
import { isAdmin, me, resume, signOut } from "./session.js";
import { leavePage } from "./pages.js";
import { renderSignin } from "./signin.js";
import { renderGraph } from "./graph.js";
import { renderCampaignPage } from "./campaign.js";
import { renderLookup } from "./lookup.js";
import { renderSubmit, renderSubmission } from "./submit.js";
import { renderAdmin } from "./admin.js";

// Read-only hooks for the browser tests (the graph page sets `graph`).
window.steppeConsole = { graph: null, version: 1 };

const ROUTES = [
  [/^#\/signin$/, () => renderSignin],
  [/^#\/graph$/, () => renderGraph],
  [/^#\/lookup$/, () => renderLookup],
  [/^#\/submit$/, () => renderSubmit],
  [/^#\/submissions\/([^/]+)$/, (id) => (main) => renderSubmission(main, id)],
  [/^#\/campaigns\/([^/]+)$/, (id) => (main) => renderCampaignPage(main, id)],
  [/^#\/admin$/, () => renderAdmin],
];

function showSignedIn() {
  const who = me();
  const signedIn = Boolean(who);
  document.querySelector("[data-nav]").hidden = !signedIn;
  document.querySelector("[data-who]").hidden = !signedIn;
  document.querySelector("[data-admin-only]").hidden = !isAdmin();
  const whoami = document.querySelector("[data-testid=whoami]");
  whoami.textContent = signedIn ? `${who.partner} · ${who.role} · TLP:${String(who.clearance).toUpperCase()}` : "";
  whoami.dataset.partner = signedIn ? who.partner : "";
  whoami.dataset.role = signedIn ? who.role : "";
  whoami.dataset.clearance = signedIn ? who.clearance : "";
}

function markCurrent(hash) {
  for (const link of document.querySelectorAll("nav a")) {
    if (hash.startsWith(link.getAttribute("href"))) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

export async function route() {
  leavePage();
  const main = document.getElementById("main");
  let hash = window.location.hash || "#/graph";
  if (!me() && hash !== "#/signin") {
    window.sessionStorage.setItem("steppe.after", hash);
    hash = "#/signin";
    window.history.replaceState(null, "", hash);
  }
  showSignedIn();
  markCurrent(hash);
  clear(main);
  clearError();
  say("");
  for (const [pattern, page] of ROUTES) {
    const found = pattern.exec(hash);
    if (found) {
      const params = found.slice(1).map((part) => decodeURIComponent(part));
      let focused = false;
      try {
        // A page builds its heading before it waits for the API: focus it at once, and
        // again once the page is done if it had none yet and nothing else took the focus.
        const done = page(...params)(main);
        focused = focusHeading(main);
        await done;
      } catch (error) {
        showError(error);
      }
      if (!focused) focusHeading(main);
      return;
    }
  }
  append(main, h("h1", {}, "Not found"), h("p", {}, `There is no page ${hash} in the console.`));
  focusHeading(main);
}

// After a route change keyboard and screen-reader users land on the new page's heading,
// unless the page (or the user) already put the focus somewhere in it.
// True when the page has a heading (focused now, or the focus left where the page put it).
function focusHeading(main) {
  const heading = main.querySelector("h1");
  if (!heading) return false;
  const focused = document.activeElement;
  if (focused && focused !== document.body && focused !== main && main.contains(focused)) return true;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
  heading.scrollIntoView({ block: "nearest" });
  return true;
}

// After sign-in: the page the caller first asked for, else the graph.
export function afterSignIn() {
  const wanted = window.sessionStorage.getItem("steppe.after");
  window.sessionStorage.removeItem("steppe.after");
  const target = wanted && wanted !== "#/signin" ? wanted : "#/graph";
  if (window.location.hash === target) route();
  else window.location.hash = target;
}

async function start() {
  document.querySelector("[data-testid=signout]").addEventListener("click", () => {
    signOut();
    if (window.location.hash === "#/signin") route();
    else window.location.hash = "#/signin";
  });
  window.addEventListener("steppe:unauthorised", () => {
    // A key revoked or rotated while the console is open: sign in again,
    // the alert (filled by the caller) saying why.
    if (!me()) return;
    signOut();
    leavePage();
    window.sessionStorage.setItem("steppe.after", window.location.hash);
    window.history.replaceState(null, "", "#/signin");
    showSignedIn();
    markCurrent("#/signin");
    const main = document.getElementById("main");
    clear(main);
    renderSignin(main);
  });
  window.addEventListener("hashchange", route);
  try {
    await resume();
  } catch (error) {
    showError(error);
  }
  await route();
  document.body.dataset.ready = "true";
}

start();
