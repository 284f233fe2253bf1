// Who is signed in: the answer of GET /api/v1/me for the key kept in sessionStorage.

import { forgetKey, get, keepKey, storedKey } from "./api.js";

let current = null;

export function me() {
  return current;
}

export function isStaff() {
  return Boolean(current && (current.role === "admin" || current.role === "analyst"));
}

export function isAdmin() {
  return Boolean(current && current.role === "admin");
}

// The kept key, checked again (a page reload): null when there is none or it no longer works.
export async function resume() {
  if (!storedKey()) return null;
  try {
    current = await get("me");
    return current;
  } catch (error) {
    if (error.status === 401) forgetKey();
    current = null;
    throw error;
  }
}

export async function signInWith(key) {
  const previous = storedKey();
  keepKey(key);
  try {
    current = await get("me");
    return current;
  } catch (error) {
    if (previous) keepKey(previous);
    else forgetKey();
    current = null;
    throw error;
  }
}

export function signOut() {
  forgetKey();
  current = null;
}
