// A site's past inspections and their photos: fetched while online and kept for the field.
import { apiResponse } from "./api.js";
import { config } from "./config.js";
import * as db from "./db.js";
import { day, gettext } from "./format.js";
import * as outbox from "./outbox.js";
import { authLost } from "./signin.js";
import { describeStates } from "./sites.js";
import { state } from "./state.js";

// The server's answer that the worker may not see a site's history: the site has left
// their areas since the tablet listed it (404 not_found), with what to do about it.
export class Refused {
  constructor(detail) {
    this.detail = detail;
  }
}

// A site's inspections, newest first: from the server when online, else as last fetched;
// Refused when the server says the site is not the worker's (what was kept of it goes).
// `passive`: fetched ahead by the app itself, not for a sheet the worker opened.
export async function siteHistory(siteId, { passive = false } = {}) {
  const key = `history:${siteId}`;
  if (navigator.onLine && !state.authLost) {
    try {
      const response = await apiResponse(`${config.urls.history.replace(config.idSlot, siteId)}?limit=10`, { answered: [404], passive });
      const body = await response.json();
      if (response.status === 404) {
        await db.remove("cache", key);
        return new Refused(body.detail);
      }
      const items = body.results;
      await db.put("cache", { key, value: items, at: Date.now() });
      // The latest inspection's photos are kept for the field.
      for (const photo of items[0]?.photos || []) if (photo.thumbnail) await storedPhoto(photo.thumbnail, passive);
      return items;
    } catch (error) {
      if (error instanceof outbox.SignedOut) authLost();
    }
  }
  return (await db.get("cache", key))?.value || null;
}

// Photos leave the server only through their scoped URLs (/media/…), which answer the
// worker's session or the tablet's device token and nobody else. An <img> cannot send the
// token, so the app fetches each photo itself, keeps it (their names carry their content
// hash: a stored copy never goes stale) and shows it from the stored copy, offline too.
// Not named "survey-…": the service worker drops those caches at each release.
export const PHOTOS = "site-photos";

async function storedPhoto(url, passive = false) {
  const cache = await caches.open(PHOTOS);
  // The answer varies with who asks (Cookie, Authorization): the tablet keeps its own.
  const hit = await cache.match(url, { ignoreVary: true });
  if (hit) return hit;
  if (!navigator.onLine || state.authLost) return null;
  const response = await fetch(url, { credentials: "same-origin", headers: outbox.headers(outbox.passiveHeaders(passive)) }).catch(() => null);
  if (!response?.ok) return null;
  await cache.put(url, response.clone());
  return response;
}

export function photoThumbs(photos) {
  const list = document.createElement("div");
  list.className = "history-photos";
  for (const photo of photos || []) {
    if (!photo.thumbnail) continue;
    const image = document.createElement("img");
    image.alt = gettext("Photo of the inspection");
    image.dataset.src = photo.thumbnail;
    list.append(image);
    storedPhoto(photo.thumbnail).then(async (response) => {
      if (response) image.src = URL.createObjectURL(await response.blob());
      else image.alt = gettext("Photo not available offline yet");
      image.dataset.shown = String(Boolean(response));
    });
  }
  return list;
}

export function renderHistory(target, items) {
  target.replaceChildren();
  if (items instanceof Refused) {
    target.textContent = items.detail;
    target.classList.add("refused");
    return;
  }
  if (!items) {
    target.textContent = gettext("History not available offline for this site yet.");
    return;
  }
  if (!items.length) {
    target.textContent = gettext("Never inspected.");
    return;
  }
  for (const item of items) {
    const entry = document.createElement("li");
    const line = document.createElement("div");
    line.textContent = `${day(item.inspected_at)} · ${item.inspector_name || item.inspector || ""} · ${describeStates(item)}`;
    entry.append(line);
    if (item.notes) entry.append(Object.assign(document.createElement("div"), { className: "muted", textContent: item.notes }));
    entry.append(photoThumbs(item.photos));
    target.append(entry);
  }
}
