// Building the page from data: text only (never HTML from the API), the error alert, the status line.

// h("button", {type: "button", dataset: {testid: "x"}, onclick}, "text", child, ...)
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) {
        if (data !== undefined && data !== null) element.dataset[key] = String(data);
      }
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "className") {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

// Element.append, but arrays are flattened and null, undefined and false left out.
export function append(element, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

const alertBox = () => document.querySelector("[data-testid=error]");

// Every API error lands here, with its sentence.
export function showError(error) {
  const box = alertBox();
  clear(box);
  const sentence = error && error.sentence ? error.sentence : String((error && error.message) || error);
  box.append(h("p", {}, sentence));
  if (error && error.errors && error.errors.length) {
    box.append(h("ul", {}, error.errors.slice(0, 20).map((e) => h("li", {}, e.where ? `${e.where}: ${e.message}` : e.message))));
  }
  box.hidden = false;
}

export function clearError() {
  const box = alertBox();
  clear(box);
  box.hidden = true;
}

export function say(text) {
  document.querySelector("[data-status]").textContent = text;
}

// Run an async action; show its error (if any) in the alert and return undefined.
export async function guarded(action) {
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

// 2009-01-18T00:00:00.000Z -> 2009-01-18; 2009-01-18T06:30:00Z -> 2009-01-18 06:30Z.
export function when(value) {
  if (!value) return "—";
  const found = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(value));
  if (!found) return String(value);
  return found[2] === "00:00" ? found[1] : `${found[1]} ${found[2]}Z`;
}

export function label(text, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  return h("div", { className: "field" }, h("label", { for: id }, text), control, hint ? h("small", {}, hint) : null);
}

export function select(options, attributes = {}, chosen = "") {
  const element = h("select", attributes);
  for (const option of options) {
    const [value, text] = Array.isArray(option) ? option : [option, option];
    element.append(h("option", { value, selected: value === chosen }, text));
  }
  return element;
}

export const TLP_LEVELS = ["clear", "green", "amber", "amber+strict", "red"];

export function tlpBadge(level) {
  return h("span", { className: `tlp tlp-${String(level || "").replace("+", "-")}` }, `TLP:${String(level || "?").toUpperCase()}`);
}
