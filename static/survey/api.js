// Requests to the server's API, as the signed-in worker or the paired tablet.
import * as outbox from "./outbox.js";

export async function apiResponse(url, answered = []) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", ...outbox.headers() } });
  if (response.status === 401 || response.status === 403 || response.redirected) throw new outbox.SignedOut();
  if (!response.ok && !answered.includes(response.status)) throw new Error(`HTTP ${response.status}`);
  return response;
}

export async function apiGet(url) {
  return (await apiResponse(url)).json();
}
