// The outbox: records made on the tablet wait here until the server has them.
// States: pending -> sending -> sent, or failed / conflict with the server's reason.
import * as db from "./db.js";

let urls = {};
let busy = false;
const listeners = new Set();

export function configure(config) {
  urls = config.urls;
}

export function onChange(listener) {
  listeners.add(listener);
}

async function changed() {
  const records = await list();
  listeners.forEach((listener) => listener(records));
}

export async function list() {
  const records = await db.all("outbox");
  return records.sort((a, b) => a.created - b.created);
}

export async function add(record) {
  await db.put("outbox", { ...record, state: "pending", created: Date.now(), error: null });
  await changed();
}

export async function discard(id) {
  await db.remove("outbox", id);
  await changed();
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function headers(extra) {
  return { "X-CSRFToken": csrfToken(), "X-Device-Time": new Date().toISOString(), ...extra };
}

class Offline extends Error {}
class SignedOut extends Error {}

async function send(url, options) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch {
    throw new Offline();
  }
  if (response.status === 401 || response.status === 403 || response.redirected) throw new SignedOut();
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { status: response.status, body };
}

function describe(body) {
  const errors = body.errors ? Object.values(body.errors).flat().join(" ") : "";
  return [body.detail, errors].filter(Boolean).join(" ");
}

async function sendPhotos(record, inspectionId) {
  for (const photo of record.photos) {
    if (photo.sent) continue;
    const url = `${urls.photo.replace("00000000-0000-0000-0000-000000000000", photo.id)}?inspection=${inspectionId}`;
    const { status, body } = await send(url, {
      method: "PUT",
      headers: headers({ "Content-Type": photo.type, "Content-Disposition": 'attachment; filename="photo.jpg"' }),
      body: photo.blob,
    });
    if (status !== 201) return { status, body };
    photo.sent = true;
    photo.blob = null;
    await db.put("outbox", record);
  }
  return { status: 201 };
}

async function sendOne(record, pendingSites) {
  if (record.type === "inspection" && pendingSites.has(record.payload.site)) return; // its site goes first
  record.state = "sending";
  await db.put("outbox", record);
  await changed();
  let result = { status: 201, body: record.result };
  if (!record.result) {
    const url = record.type === "site" ? urls.site : urls.inspection;
    result = await send(url, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(record.payload),
    });
    if (result.status === 201) record.result = result.body;
  }
  if (result.status === 201) {
    const inspectionId = record.type === "site" ? record.payload.inspection?.id : record.payload.id;
    result = inspectionId ? await sendPhotos(record, inspectionId) : result;
  }
  if (result.status === 201) {
    record.state = "sent";
    record.error = null;
    pendingSites.delete(record.id);
  } else {
    record.state = result.status === 409 ? "conflict" : "failed";
    record.error = describe(result.body) || `HTTP ${result.status}`;
  }
  await db.put("outbox", record);
}

// Sends everything pending, oldest first. Returns "offline", "signed-out" or "done".
export async function flush() {
  if (busy) return "busy";
  busy = true;
  try {
    const records = (await list()).filter((r) => r.state === "pending" || r.state === "sending");
    const pendingSites = new Set(records.filter((r) => r.type === "site").map((r) => r.id));
    for (const record of records) {
      try {
        await sendOne(record, pendingSites);
      } catch (error) {
        record.state = "pending";
        await db.put("outbox", record);
        if (error instanceof Offline) return "offline";
        if (error instanceof SignedOut) return "signed-out";
        throw error;
      }
    }
    return "done";
  } finally {
    busy = false;
    await changed();
  }
}
