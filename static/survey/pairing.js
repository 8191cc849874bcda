// Pairing: a manager shows a one-time code (ABCD-EFGH, or a QR code opening
// /survey/#pair=ABCD-EFGH); the tablet trades it for a device token, kept in IndexedDB
// and sent on every API call. A token does not expire with a session, so a worker
// offline for weeks can still send; a revoked one answers 401 and the app asks again.
import * as db from "./db.js";

const KEY = "token";

export async function stored() {
  return (await db.get("device", KEY)) || null;
}

export function codeFromHash(hash = location.hash) {
  const match = /[#&]pair=([A-Za-z0-9-]+)/.exec(hash);
  return match ? match[1].toUpperCase() : null;
}

// The code as people type it: any case, with or without the dash or spaces.
export function normalise(code) {
  const letters = code.toUpperCase().replace(/[^A-Z0-9]/g, "");
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
}

export class PairingRefused extends Error {}

export async function pair(url, { code, deviceName }) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ code: normalise(code), device_name: deviceName }),
    });
  } catch {
    throw new PairingRefused(window.gettext("No connection: pairing needs the network once."));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.token) {
    throw new PairingRefused(body.detail || window.gettext("The server could not pair this tablet; try again."));
  }
  // The name the token was given: the tablet's, or the manager's when the tablet gave none.
  const device = { key: KEY, token: body.token, username: body.username, fullName: body.full_name, deviceName: body.device_name || deviceName, at: Date.now() };
  await db.put("device", device);
  return device;
}

export async function forget() {
  await db.remove("device", KEY);
}
