// Sign-in: the same key as the API, checked with GET /api/v1/me, kept in sessionStorage only.

import { append, clearError, guarded, h, label } from "./dom.js";
import { me, signInWith } from "./session.js";

export async function renderSignin(main) {
  const { afterSignIn } = await import("./app.js");
  const key = h("input", { type: "password", autocomplete: "current-password", required: true, dataset: { testid: "signin-key" } });
  const form = h(
    "form",
    { className: "signin card" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Use your steppe API key. It is kept in this tab only, until you sign out or close it."),
    label("API key", key),
    h("button", { type: "submit", dataset: { testid: "signin-submit" } }, "Sign in"),
  );
  if (me()) append(form, h("p", {}, `Signed in as ${me().partner}. Sign in again to change key.`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const who = await guarded(() => signInWith(key.value.trim()));
    if (who) afterSignIn();
  });
  append(main, form);
  key.focus();
}
