// Requests to the server's API, as the signed-in worker or the paired tablet. `answered`:
// the error statuses the caller reads itself; `passive`: the app asks by itself.
import * as outbox from "./outbox.js";

export async function apiResponse(url, { answered = [], passive = false } = {}) {
  const headers = { Accept: "application/json", ...outbox.headers(outbox.passiveHeaders(passive)) };
  const response = await fetch(url, { credentials: "same-origin", headers });
  if (response.status === 401 || response.status === 403 || response.redirected) throw new outbox.SignedOut();
  if (!response.ok && !answered.includes(response.status)) throw new Error(`HTTP ${response.status}`);
  return response;
}

export async function apiGet(url, { passive = false } = {}) {
  return (await apiResponse(url, { passive })).json();
}
