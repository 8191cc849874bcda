// The outbox: records made on the tablet wait here until the server has stored them.
// States: pending -> sending -> sent; refused when the server names what is wrong with
// the record itself (a 4xx with a reason), which the worker can fix and send again.
// Everything else (no network, 5xx, 408, 429, a 4xx page from a proxy) is retried with
// a growing, jittered wait, forever: field evidence leaves the tablet only when stored.
import * as db from "./db.js";

const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;
// Sent records stay visible this long (the worker may want to see the site code), then go.
export const KEEP_SENT_MS = 7 * 24 * 3600_000;
const RETRIED_STATUSES = new Set([408, 425, 429]);

let urls = {};
let idSlot = "";
let authorization = () => null;
let person = () => null;
let busy = false;
const listeners = new Set();
const progressListeners = new Set();
// What the flush under way sends: its records and their photos' bytes, and how much of
// each has gone (the header's progress: sent / total, not only what is left).
let round = null;

// auth(): the device token, if paired; owner(): who is signed in ({ username, name }, as
// last known), whose records are made and sent.
export function configure(config, { auth, owner }) {
  urls = config.urls;
  idSlot = config.idSlot;
  authorization = auth;
  person = owner;
}

// A record goes under the name of the person who made it, never another's: made for
// someone else (whose session ended before another signed in), it waits on the tablet
// for that person's next sign-in. Records of the first app versions have no owner.
export const mine = (record) => !record.owner || record.owner.username === person()?.username;

export function onChange(listener) {
  listeners.add(listener);
}

// listener({ id, loaded, total, round }) while a record's photos go up (round: { sent,
// records, sentBytes, bytes } of the whole flush); id null when done.
export function onProgress(listener) {
  progressListeners.add(listener);
}

async function changed() {
  const records = await list();
  listeners.forEach((listener) => listener(records));
}

export async function list() {
  const records = await db.all("outbox");
  return records.sort((a, b) => a.created - b.created);
}

export const unsent = (records) => records.filter((r) => r.state !== "sent");

export async function add(record) {
  await db.put("outbox", {
    ...record,
    owner: person(),
    state: "pending",
    created: Date.now(),
    attempts: 0,
    retryAt: 0,
    sentAt: null,
    error: null,
    errors: null,
  });
  await changed();
}

// The worker fixed a refused record: it goes again at once, with what was already stored kept.
export async function resend(id, { payload, photos }) {
  const record = await db.get("outbox", id);
  if (!record || record.state === "sent") return;
  Object.assign(record, { state: "pending", attempts: 0, retryAt: 0, error: null, errors: null });
  if (payload) record.payload = payload;
  if (photos) record.photos = photos;
  await db.put("outbox", record);
  await changed();
}

export async function discard(id) {
  await db.remove("outbox", id);
  await changed();
}

// Sent records older than KEEP_SENT_MS leave the tablet.
export async function clearOldSent(now = Date.now()) {
  const old = (await list()).filter((r) => r.state === "sent" && now - (r.sentAt || 0) > KEEP_SENT_MS);
  for (const record of old) await db.remove("outbox", record.id);
  if (old.length) await changed();
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// What the app asks for by itself (at its timers' rounds, as the network comes back) says
// so: the server does not count it as the person's activity, and a tablet left open signs
// out after its idle half hour (accounts/sessions.py). What follows a tap is the person's.
export const passiveHeaders = (passive) => (passive ? { "X-Passive-Session": "1" } : {});

export function headers(extra = {}) {
  const token = authorization();
  const auth = token ? { Authorization: `Token ${token}` } : {};
  // The server measures the tablet's clock offset from X-Device-Time (see the sync API).
  return { ...auth, "X-CSRFToken": csrfToken(), "X-Device-Time": new Date().toISOString(), ...extra };
}

export class Offline extends Error {}
export class SignedOut extends Error {}

async function parse(status, text, retryAfter) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status, body: body && typeof body === "object" ? body : null, retryAfter };
}

function checkAuth(status, redirected) {
  if (status === 401 || status === 403 || redirected) throw new SignedOut();
}

async function send(url, options) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch {
    throw new Offline();
  }
  checkAuth(response.status, response.redirected);
  return parse(response.status, await response.text(), response.headers.get("Retry-After"));
}

// A photo goes up with XMLHttpRequest: fetch() cannot report upload progress.
function upload(url, blob, type, onProgress, passive) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(
      headers({ "Content-Type": type, "Content-Disposition": 'attachment; filename="photo.jpg"', ...passiveHeaders(passive) }),
    )) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onerror = () => reject(new Offline());
    xhr.ontimeout = () => reject(new Offline());
    xhr.onload = () => {
      try {
        checkAuth(xhr.status, xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(url, location.href).pathname);
      } catch (error) {
        reject(error);
        return;
      }
      parse(xhr.status, xhr.responseText, xhr.getResponseHeader("Retry-After")).then(resolve);
    };
    xhr.send(blob);
  });
}

// A refusal names what is wrong with the record: a 4xx whose JSON body says why.
function refusal(result) {
  const { status, body } = result;
  if (status < 400 || status >= 500 || RETRIED_STATUSES.has(status)) return null;
  if (!body || !(body.detail || body.errors || body.code)) return null;
  const errors = body.errors && typeof body.errors === "object" ? body.errors : null;
  const flat = errors ? Object.values(errors).flat(Infinity).join(" ") : "";
  // The form shows each field's messages beside it; the card, without field names.
  return { error: flat || body.detail || body.code, errors, code: body.code || null };
}

export function retryDelay(attempts, retryAfterSeconds = null) {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempts, 20));
  // Full jitter: tablets that lost the same server do not all come back at once.
  const jittered = ceiling / 2 + (Math.random() * ceiling) / 2;
  return Math.max(jittered, (retryAfterSeconds || 0) * 1000);
}

function photoBytes(record) {
  return record.photos.reduce((sum, p) => sum + (p.bytes || p.blob?.size || 0), 0);
}

async function sendPhotos(record, inspectionId, passive) {
  const total = photoBytes(record);
  let done = record.photos.filter((p) => p.sent).reduce((sum, p) => sum + (p.bytes || 0), 0);
  const report = (loaded) => {
    const sofar = { ...round, sentBytes: round.sentBytes + loaded };
    progressListeners.forEach((l) => l({ id: record.id, loaded: done + loaded, total, round: sofar }));
  };
  report(0);
  for (const photo of record.photos) {
    if (photo.sent) continue;
    const url = `${urls.photo.replace(idSlot, photo.id)}?inspection=${inspectionId}`;
    const result = await upload(url, photo.blob, photo.type, report, passive);
    if (result.status !== 201) return { ...result, photo: photo.id };
    done += photo.bytes || photo.blob.size;
    round.sentBytes += photo.bytes || photo.blob.size;
    photo.sent = true;
    photo.blob = null;
    await db.put("outbox", record);
    report(0);
  }
  return { status: 201 };
}

async function sendOne(record, passive) {
  record.state = "sending";
  await db.put("outbox", record);
  await changed();
  let result = { status: 201, body: record.result };
  if (!record.result) {
    const url = urls[record.type]; // site, inspection or closure (a proposal to close a site)
    result = await send(url, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", ...passiveHeaders(passive) }),
      body: JSON.stringify(record.payload),
    });
    if (result.status === 201) record.result = result.body;
  }
  if (result.status === 201) {
    const inspectionId = { site: record.payload.inspection?.id, inspection: record.payload.id }[record.type];
    if (inspectionId) result = await sendPhotos(record, inspectionId, passive);
  }
  if (result.status === 201) {
    Object.assign(record, { state: "sent", sentAt: Date.now(), error: null, errors: null, attempts: 0 });
  } else {
    const refused = refusal(result);
    if (refused) {
      Object.assign(record, { state: result.status === 409 ? "conflict" : "refused", ...refused, photo: result.photo || null });
    } else {
      failedTry(record, `HTTP ${result.status}`, Number(result.retryAfter) || null);
    }
  }
  await db.put("outbox", record);
}

// The server did not take the record, through no fault of the record: tried again later.
// `error` is for support staff (the worker reads that the server does not answer).
function failedTry(record, error, retryAfterSeconds = null) {
  record.attempts = (record.attempts || 0) + 1;
  record.state = "pending";
  record.error = error;
  record.retryAt = Date.now() + retryDelay(record.attempts, retryAfterSeconds);
}

// "Send now": every waiting record goes at the next flush, whatever its wait.
export async function retryNow() {
  for (const record of await list()) {
    if (record.state !== "pending" || !record.retryAt) continue;
    record.retryAt = 0;
    await db.put("outbox", record);
  }
  await changed();
}

// Sends every record whose turn has come, oldest first; an inspection (or a closure
// proposal) waits for its new site. Returns "offline", "signed-out", "unanswered" (the
// network is up but the server took nothing: it does not answer, or answers with errors),
// "done", or "idle" when records wait but none's turn had come (the server was not asked:
// nothing is known of it); nextRetry() says when to call again. `passive`: the app sends
// by itself, not at the person's tap.
export async function flush({ passive = false } = {}) {
  if (busy) return "busy";
  busy = true;
  try {
    const all = await list();
    const waiting = new Set(unsent(all).filter((r) => r.type === "site").map((r) => r.id));
    const now = Date.now();
    let unanswered = false;
    let asked = false;
    const queued = all.filter((r) => ["pending", "sending"].includes(r.state) && mine(r));
    const due = queued.filter((r) => (r.retryAt || 0) <= now);
    const unsentBytes = (r) => r.photos.filter((p) => !p.sent).reduce((sum, p) => sum + (p.bytes || p.blob?.size || 0), 0);
    round = { sent: 0, records: due.length, sentBytes: 0, bytes: due.reduce((sum, r) => sum + unsentBytes(r), 0) };
    for (const record of queued) {
      if (record.type !== "site" && waiting.has(record.payload.site)) continue; // its site goes first
      if ((record.retryAt || 0) > now) continue;
      asked = true;
      try {
        await sendOne(record, passive);
        if (record.state === "sent") {
          waiting.delete(record.id);
          round.sent += 1;
        }
        if (record.state === "pending") unanswered = true;
      } catch (error) {
        record.state = "pending";
        // No answer at all with the network up: the server (or its proxy) is down.
        if (error instanceof Offline && navigator.onLine) failedTry(record, "no answer");
        await db.put("outbox", record);
        if (error instanceof Offline) return navigator.onLine ? "unanswered" : "offline";
        if (error instanceof SignedOut) return "signed-out";
        throw error;
      }
    }
    if (!asked && queued.length) return "idle";
    return unanswered ? "unanswered" : "done";
  } finally {
    busy = false;
    progressListeners.forEach((l) => l({ id: null, loaded: 0, total: 0 }));
    await changed();
  }
}

// When the earliest waiting record may be tried again (null when none waits).
export async function nextRetry() {
  const times = (await list()).filter((r) => r.state === "pending" && r.retryAt).map((r) => r.retryAt);
  return times.length ? Math.min(...times) : null;
}
