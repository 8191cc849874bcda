// The survey app: map of the worker's area, sites due for inspection, registering and
// inspecting sites, all working offline through the outbox.
import { basemap, basemapLayer } from "../common/basemap.js";
import { DUE_RING, paletteToCss, STATE_COLOURS } from "../common/palette.js";
import * as db from "./db.js";
import { distanceMetres, inGeometry } from "./geo.js";
import { formatDecimal, parseDecimal, roundedHalfUp } from "./numbers.js";
import * as outbox from "./outbox.js";
import * as pairing from "./pairing.js";
import { prepare as preparePhoto } from "./photos.js";
import * as sitelist from "./sitelist.js";

const config = JSON.parse(document.getElementById("survey-config").textContent);
// gettext and interpolate come from Django's JavaScript catalogue (survey/jsi18n/).
const { gettext, interpolate } = window;
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const LANG = document.documentElement.lang || "vi";
const fmt = (text, params) => interpolate(text, params, true);
const number = (n, digits = 0) => n.toLocaleString(LANG, { maximumFractionDigits: digits });
// Days and times in the registry's time zone (the server's, whatever the tablet's own),
// written as Vietnamese forms write them: 09/08/2026, 21:45.
const ZONE = { timeZone: config.timeZone };
const day = (when) => new Date(when).toLocaleDateString(LANG, { ...ZONE, day: "2-digit", month: "2-digit", year: "numeric" });
const clockTime = (when) => new Date(when).toLocaleTimeString(LANG, { ...ZONE, hour: "2-digit", minute: "2-digit" });
// Site data are fetched again after a send, or when older than this.
const DATA_MAX_AGE_MS = 15 * 60_000;
// The due list shows the nearest ones; more than this would only slow the tablet down.
const DUE_SHOWN = 200;
// History of the due sites is fetched ahead, while online, for this many sites.
const HISTORY_AHEAD = 50;

paletteToCss();

const state = {
  me: null,
  areas: { type: "FeatureCollection", features: [] },
  sites: { type: "FeatureCollection", features: [], complete: true },
  proposals: [], // the worker's closure proposals and the managers' decisions, newest first
  naming: Promise.resolve(), // the site list's second part, on its way
  namingNow: false, // while it is: no other list is fetched
  dataAt: 0,
  records: [], // the outbox, kept in step by outbox.onChange
  position: null, // { coords: [lon, lat], accuracy }
  device: null, // the pairing: { token, username, fullName }
  authLost: false, // 401: sending stops until the tablet is paired or signed in again
  serverDown: false, // the network is up, but the server took nothing at the last try
  pin: null, // registration point chosen by the worker
  pinFromGps: false,
  inspecting: null,
  drafts: [], // every form begun and not saved or cancelled, of everyone on this tablet
  allowDuplicate: false,
};

// Who records are made for: the person signed in (by session or pairing), as last known, so
// offline too. Nobody (never signed in, or signed out): no record is taken, none could be sent.
function person() {
  const username = state.me?.username || state.device?.username;
  return username ? { username, name: state.me?.name || state.device?.fullName || username } : null;
}

outbox.configure(config, { auth: () => state.device?.token, owner: person });

// Before a record is begun: with nobody signed in, say what to do instead.
function nobodySignedIn() {
  if (person()) return false;
  authLost();
  show("pair");
  return true;
}

// ---------- views ----------
function show(name) {
  const left = [...live.keys()].filter((form) => !viewOf(form).hidden && viewOf(form).id !== `view-${name}`);
  $$(".view").forEach((view) => (view.hidden = view.id !== `view-${name}`));
  // A form left for another view is kept as it is now, no longer on screen.
  left.forEach((form) => keepDraft(form));
  $$(".tabs [data-view]").forEach((tab) => tab.classList.toggle("active", tab.dataset.view === name));
  if (name === "map") map.invalidateSize();
  if (name === "due") renderDue();
  if (name === "register") regMap.invalidateSize();
}
$$("[data-view]").forEach((button) => button.addEventListener("click", () => show(button.dataset.view)));

function banner(...content) {
  const element = $("#banner");
  element.hidden = !content.length;
  element.replaceChildren(...content);
}

function button(label, onClick, className = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

// ---------- site state ----------
// The state rule lives on the server; it hands it over as a table (signage|barrier -> state).
const stateOf = (p) => p.state || config.states[`${p.signage}|${p.barrier}`] || "unprotected";
const STATE_LABEL = config.stateLabels;

// Sites known to the server with what the outbox holds on top: new sites, and the latest
// queued inspection of a known site (its state shown at once, no longer due).
function allSites() {
  const queued = outbox.unsent(state.records);
  const inspected = new Map();
  for (const r of queued) if (r.type === "inspection") inspected.set(r.payload.site, r.payload);
  const overlay = (feature) => {
    const inspection = inspected.get(feature.properties.id);
    if (!inspection) return feature;
    const p = { ...feature.properties, signage: inspection.signage, barrier: inspection.barrier, state: null };
    return {
      ...feature,
      properties: { ...p, state: stateOf(p), due: false, last_checked_at: inspection.inspected_at, queued: true },
    };
  };
  const fresh = queued
    .filter((r) => r.type === "site")
    .map((r) => {
      const p = { signage: r.payload.inspection?.signage, barrier: r.payload.inspection?.barrier };
      return {
        type: "Feature",
        geometry: r.payload.location,
        properties: {
          id: r.id, code: "", name: r.payload.name, kind: r.payload.kind, queued: true, due: false, new: true,
          ...p, state: stateOf(p), last_checked_at: r.payload.inspection?.inspected_at,
        },
      };
    });
  const freshIds = new Set(fresh.map((f) => f.properties.id));
  return [...state.sites.features.filter((f) => !freshIds.has(f.properties.id)).map(overlay), ...fresh];
}

// ---------- map ----------
const map = L.map("map", { zoomControl: true }).setView([16, 106], 6);
// Offline, the service worker answers from the tiles stored by "offline map of my communes".
basemapLayer().addTo(map);
// The worker's own position is drawn above the sites, whatever their number.
map.createPane("me").style.zIndex = 640;
const AREA_STYLE = { color: "#0b3d91", weight: 2, fillOpacity: 0.04, interactive: false };
const areaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(map);
// Dots of 24 px drawn on one canvas (thousands of sites in a busy commune), each taking
// taps 10 px around it: a touch target of 44 px.
const siteRenderer = L.canvas({ tolerance: 10 });
const siteLayer = L.layerGroup().addTo(map);
const meRenderer = L.svg({ pane: "me" });
let meMarker = null;
let meCircle = null;

function siteStyle(p) {
  const base = { renderer: siteRenderer, radius: 12, fillColor: STATE_COLOURS[stateOf(p)], fillOpacity: 1 };
  // Not sent yet: a dashed outline (never a state colour); due: the black ring of the planner map.
  if (p.queued) return { ...base, color: "#0b3d91", weight: 4, dashArray: "5 4" };
  if (p.due) return { ...base, color: DUE_RING, weight: 5 };
  return { ...base, color: "#ffffff", weight: 2 };
}

function addDot(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const marker = L.circleMarker([lat, lon], siteStyle(feature.properties));
  marker.feature = feature;
  marker.on("click", () => {
    const under = sitesUnder(feature);
    if (under.length > 1) openChooser(under);
    else openSheet(feature);
  });
  marker.addTo(siteLayer);
}

// Dots this close (pixels) are under one finger: a well beside a pond, both registered from
// the same GPS fix, lies under the pond's dot at every zoom. A tap there asks which one.
const DOT_REACH_PX = 22;

function sitesUnder(feature) {
  const point = (f) => map.latLngToLayerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
  const at = point(feature);
  return allSites().filter((f) => point(f).distanceTo(at) <= DOT_REACH_PX);
}

function openChooser(features) {
  const sheet = $("#site-sheet");
  sheet.hidden = false;
  sheetFor = null;
  const title = document.createElement("h2");
  title.textContent = fmt(gettext("%(n)s sites here: which one?"), { n: number(features.length) });
  const list = document.createElement("ul");
  list.className = "chooser";
  for (const feature of features) {
    const p = feature.properties;
    const label = `${p.code || gettext("new")} · ${p.name || config.kinds[p.kind] || p.kind} · ${STATE_LABEL[stateOf(p)]}`;
    const item = document.createElement("li");
    item.append(button(label, () => openSheet(feature), `state-${stateOf(p)}`));
    list.append(item);
  }
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(button(gettext("Close"), () => (sheet.hidden = true)));
  sheet.replaceChildren(title, list, actions);
}

// With more sites than GROUP_ABOVE only those in view are drawn, and below GROUP_UNTIL_ZOOM
// those within GROUP_CELL_PX of each other as one numbered group that a tap zooms into: a
// busy commune's 10,000 dots were slow to draw (bench/NOTES.md) and overlapped into one blot.
// A group takes the colour of its least protected site and the due ring if one is due;
// records not sent yet always keep their own dot.
const GROUP_ABOVE = 1500;
const GROUP_UNTIL_ZOOM = 17;
const GROUP_CELL_PX = 48;
const STATE_ORDER = ["unprotected", "signed_only", "fenced_only", "protected"];
const groupLayer = L.layerGroup().addTo(map);

function addGroup(cell) {
  const bounds = L.latLngBounds(cell.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]));
  const worst = Math.min(...cell.map((f) => STATE_ORDER.indexOf(stateOf(f.properties))).filter((i) => i >= 0));
  const due = cell.some((f) => f.properties.due);
  const icon = L.divIcon({
    className: `site-group${due ? " due" : ""}`,
    html: `<span style="background:${STATE_COLOURS[STATE_ORDER[worst]] || STATE_COLOURS.unprotected}">${number(cell.length)}</span>`,
    iconSize: [44, 44],
  });
  const label = fmt(gettext("%(n)s sites here: tap to zoom in"), { n: number(cell.length) });
  L.marker(bounds.getCenter(), { icon, title: label, alt: label })
    .on("click", () => map.fitBounds(bounds, { maxZoom: GROUP_UNTIL_ZOOM + 1, padding: [40, 40] }))
    .addTo(groupLayer);
}

function renderSites() {
  siteLayer.clearLayers();
  groupLayer.clearLayers();
  const features = allSites();
  if (features.length <= GROUP_ABOVE) {
    features.forEach(addDot);
    return;
  }
  const zoom = map.getZoom();
  const view = map.getBounds().pad(0.25);
  const cells = new Map();
  for (const feature of features) {
    const [lon, lat] = feature.geometry.coordinates;
    if (!view.contains([lat, lon])) continue;
    if (zoom >= GROUP_UNTIL_ZOOM || feature.properties.queued) {
      addDot(feature);
      continue;
    }
    const at = map.project([lat, lon], zoom);
    const key = `${Math.floor(at.x / GROUP_CELL_PX)}:${Math.floor(at.y / GROUP_CELL_PX)}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(feature);
  }
  for (const cell of cells.values()) {
    if (cell.length === 1) addDot(cell[0]);
    else addGroup(cell);
  }
}
// Moved or zoomed: a long list is drawn again for the new view.
map.on("moveend", () => {
  if (state.sites.features.length > GROUP_ABOVE) renderSites();
});

function mapButton(position, label, title, onClick) {
  const control = L.control({ position });
  control.onAdd = () => {
    const bar = L.DomUtil.create("div", "leaflet-bar map-button");
    const link = L.DomUtil.create("a", "", bar);
    link.href = "#";
    link.role = "button";
    link.title = title;
    link.setAttribute("aria-label", title);
    link.innerHTML = label;
    L.DomEvent.disableClickPropagation(bar);
    L.DomEvent.on(link, "click", (event) => {
      L.DomEvent.preventDefault(event);
      onClick();
    });
    return bar;
  };
  return control.addTo(map);
}

const CROSSHAIR =
  '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" aria-hidden="true">' +
  '<circle cx="12" cy="12" r="7"/><path d="M12 1v4M12 19v4M1 12h4M19 12h4"/><circle cx="12" cy="12" r="2" fill="currentColor"/></svg>';
const locate = mapButton("topleft", CROSSHAIR, gettext("My location"), () => {
  if (state.position) map.setView([state.position.coords[1], state.position.coords[0]], Math.max(map.getZoom(), 16));
  else $("#gps").textContent = gettext("No GPS position yet: go outside, away from buildings, and wait a moment.");
});
locate.getContainer().id = "my-location";

const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const box = L.DomUtil.create("details", "legend");
  box.id = "legend";
  box.open = window.innerWidth >= 1000;
  const states = ["unprotected", "signed_only", "fenced_only", "protected"]
    .map((s) => `<li><span class="dot" style="background:${STATE_COLOURS[s]}"></span>${STATE_LABEL[s]}</li>`)
    .join("");
  box.innerHTML = `<summary>${gettext("Legend")}</summary><ul>${states}
    <li><span class="dot ring"></span>${gettext("Due for inspection")}</li>
    <li><span class="dot queued"></span>${gettext("Not sent yet")}</li>
    <li><span class="dot group">3</span>${gettext("Several sites: tap to zoom in")}</li>
    <li><span class="dot me"></span>${gettext("You are here")}</li></ul>`;
  L.DomEvent.disableClickPropagation(box);
  return box;
};
legend.addTo(map);

// ---------- site sheet ----------
function directionsLink(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const link = document.createElement("a");
  link.className = "button-link directions";
  // geo: opens the tablet's own map app, which can guide the worker there. Five decimals
  // (about 1 m): the site list gives no more.
  const at = `${lat.toFixed(5)},${lon.toFixed(5)}`;
  link.href = `geo:${at}?q=${at}(${encodeURIComponent(feature.properties.name)})`;
  link.textContent = gettext("Directions");
  return link;
}

async function apiResponse(url, answered = []) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", ...outbox.headers() } });
  if (response.status === 401 || response.status === 403 || response.redirected) throw new outbox.SignedOut();
  if (!response.ok && !answered.includes(response.status)) throw new Error(`HTTP ${response.status}`);
  return response;
}

async function apiGet(url) {
  return (await apiResponse(url)).json();
}

// A site's inspections, newest first: from the server when online, else as last fetched.
async function siteHistory(siteId) {
  const key = `history:${siteId}`;
  if (navigator.onLine && !state.authLost) {
    try {
      const body = await apiGet(`${config.urls.history}?site=${siteId}&limit=10`);
      const items = body.results || body;
      await db.put("cache", { key, value: items, at: Date.now() });
      // The latest inspection's photos are kept for the field.
      for (const photo of items[0]?.photos || []) if (photo.thumbnail) await storedPhoto(photo.thumbnail);
      return items;
    } catch (error) {
      if (error instanceof outbox.SignedOut) authLost();
    }
  }
  return (await db.get("cache", key))?.value || null;
}

function describeStates(p) {
  const sign = config.signage[p.signage] || "–";
  const barrier = config.barrier[p.barrier] || "–";
  return `${gettext("Warning sign")}: ${sign} · ${gettext("Barrier")}: ${barrier}`;
}

// Photos leave the server only through their scoped URLs (/media/…), which answer the
// worker's session or the tablet's device token and nobody else. An <img> cannot send the
// token, so the app fetches each photo itself, keeps it (their names carry their content
// hash: a stored copy never goes stale) and shows it from the stored copy, offline too.
// Not named "survey-…": the service worker drops those caches at each release.
const PHOTOS = "site-photos";

async function storedPhoto(url) {
  const cache = await caches.open(PHOTOS);
  // The answer varies with who asks (Cookie, Authorization): the tablet keeps its own.
  const hit = await cache.match(url, { ignoreVary: true });
  if (hit) return hit;
  if (!navigator.onLine || state.authLost) return null;
  const response = await fetch(url, { credentials: "same-origin", headers: outbox.headers() }).catch(() => null);
  if (!response?.ok) return null;
  await cache.put(url, response.clone());
  return response;
}

function photoThumbs(photos) {
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

function renderHistory(target, items) {
  target.replaceChildren();
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

let sheetFor = null;
async function openSheet(feature) {
  const p = feature.properties;
  const sheet = $("#site-sheet");
  sheet.hidden = false;
  sheetFor = feature;
  if (!p.id && !p.new) {
    const wait = document.createElement("p");
    wait.textContent = gettext("Loading the names of the sites…");
    sheet.replaceChildren(wait);
    const ok = await named(feature);
    if (sheetFor !== feature) return; // another site was tapped meanwhile
    if (!ok) {
      wait.textContent = gettext("This site's name has not reached the tablet yet: connect to the network and try again.");
      sheet.append(button(gettext("Close"), () => (sheet.hidden = true)));
      return;
    }
  }
  sheet.replaceChildren();
  const title = document.createElement("h2");
  title.textContent = `${p.code || gettext("new")} · ${p.name}`;
  const info = document.createElement("p");
  info.className = `state-line state-${stateOf(p)}`;
  info.textContent =
    `${config.kinds[p.kind] || p.kind} · ${STATE_LABEL[stateOf(p)]}` +
    (p.last_checked_at ? ` · ${gettext("last checked")} ${day(p.last_checked_at)}` : ` · ${gettext("never checked")}`) +
    (p.due ? ` · ${gettext("due for inspection")}` : "") +
    (p.queued ? ` · ${gettext("not sent yet")}` : "") +
    begunNote(feature);
  const past = document.createElement("ol");
  past.className = "history";
  past.textContent = gettext("Loading history…");
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(
    directionsLink(feature),
    button(gettext("Close"), () => (sheet.hidden = true)),
    button(gettext("Inspect"), () => startInspection(feature), "primary"),
  );
  const proposal = state.proposals.find((x) => x.site === p.id);
  // One proposal at a time: a manager is deciding on the one sent.
  if (!p.queued && proposal?.status !== "pending") actions.append(proposeClosureButton(p));
  sheet.append(title, info);
  if (proposal) sheet.append(proposalLine(proposal));
  sheet.append(actions, past);
  if (p.new) past.textContent = "";
  else siteHistory(p.id).then((items) => renderHistory(past, items));
}

// What became of a closure proposal: waiting, or the manager's decision, by whom, when and why.
function proposalLine(proposal) {
  const line = document.createElement("div");
  line.className = `proposal-line proposal-${proposal.status}`;
  const what = document.createElement("strong");
  what.textContent = fmt(gettext("Closure proposed on %(day)s (%(reason)s): %(status)s"), {
    day: day(proposal.observed_at),
    reason: proposal.reason_label,
    status: config.proposalStatus[proposal.status] || proposal.status,
  });
  line.append(what);
  if (proposal.decided_at) {
    const who = document.createElement("div");
    who.className = "decided";
    who.textContent = fmt(gettext("Decided by %(name)s on %(day)s"), { name: proposal.decided_by || "–", day: day(proposal.decided_at) });
    line.append(who);
  }
  if (proposal.decision_note) {
    const why = document.createElement("div");
    why.className = "decision-note";
    why.textContent = fmt(gettext("Manager's note: %(note)s"), { note: proposal.decision_note });
    line.append(why);
  }
  return line;
}

function renderProposals() {
  const list = $("#proposal-list");
  list.replaceChildren();
  if (!state.proposals.length) {
    list.append(Object.assign(document.createElement("li"), { textContent: gettext("No closure proposals yet.") }));
  }
  for (const proposal of state.proposals) {
    const item = document.createElement("li");
    item.className = "card proposal";
    item.dataset.id = proposal.id;
    item.dataset.status = proposal.status;
    const text = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = `${proposal.site_code} · ${proposal.site_name}`;
    text.append(title, proposalLine(proposal));
    if (proposal.note) text.append(Object.assign(document.createElement("span"), { className: "muted", textContent: proposal.note }));
    const chip = document.createElement("span");
    chip.className = `chip proposal-${proposal.status}`;
    chip.textContent = config.proposalStatus[proposal.status] || proposal.status;
    item.append(text, chip);
    list.append(item);
  }
}

// The worker's proposals and what managers decided, kept for offline use. Without a
// network or a session the kept ones stay (the site list's requests report a lost sign-in).
async function refreshProposals() {
  let proposals;
  try {
    proposals = (await apiGet(config.urls.proposals)).proposals;
  } catch {
    return;
  }
  state.proposals = proposals;
  await db.put("cache", { key: "proposals", value: proposals, at: Date.now() });
  renderProposals();
}

// A site that is gone (filled in, drained...): the worker proposes closing it, a manager decides.
function proposeClosureButton(p) {
  const propose = button(gettext("Propose closing"), () => {
    if (nobodySignedIn()) return;
    const form = document.createElement("form");
    form.className = "actions";
    const reason = document.createElement("select");
    // No reason chosen for the worker: a tap on Send would propose "filled in" unread.
    const none = new Option(gettext("Choose the reason…"), "", true, true);
    none.disabled = true;
    reason.append(none, ...Object.entries(config.closeReasons).map(([value, label]) => new Option(label, value)));
    const note = Object.assign(document.createElement("input"), { placeholder: gettext("Note") });
    const send = Object.assign(document.createElement("button"), { className: "primary", textContent: gettext("Send proposal") });
    const missing = Object.assign(document.createElement("p"), { className: "form-errors" });
    form.append(reason, note, send, missing);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      missing.textContent = reason.value ? "" : gettext("Choose why the site should be closed.");
      if (!reason.value) return;
      const payload = { id: crypto.randomUUID(), site: p.id, reason: reason.value, note: note.value, observed_at: new Date().toISOString() };
      await outbox.add({ id: payload.id, type: "closure", label: p.name, payload, photos: [] });
      $("#site-sheet").hidden = true;
      sync();
    });
    propose.replaceWith(form);
  }, "propose-closure");
  return propose;
}

function renderAreas() {
  for (const layer of [areaLayer, regAreaLayer]) {
    layer.clearLayers();
    layer.addData(state.areas);
  }
  if (!state.position && state.areas.features.length) map.fitBounds(areaLayer.getBounds());
}

// ---------- GPS ----------
function accuracyText(accuracy) {
  return fmt(gettext("accurate to ± %(acc)s m"), { acc: number(accuracy) });
}

function onPosition(position) {
  const first = !state.position;
  state.position = {
    coords: [position.coords.longitude, position.coords.latitude],
    accuracy: Math.round(position.coords.accuracy),
  };
  const latlng = [position.coords.latitude, position.coords.longitude];
  if (!meMarker) {
    meCircle = L.circle(latlng, { radius: state.position.accuracy, className: "me-accuracy", pane: "me", renderer: meRenderer, interactive: false }).addTo(map);
    meMarker = L.circleMarker(latlng, { radius: 9, className: "me", pane: "me", renderer: meRenderer, interactive: false }).addTo(map);
  } else {
    meMarker.setLatLng(latlng);
    meCircle.setLatLng(latlng).setRadius(state.position.accuracy);
  }
  if (first) map.setView(latlng, 15);
  const gps = $("#gps");
  gps.textContent = fmt(gettext("GPS: %(lat)s, %(lon)s (± %(acc)s m)"), {
    lat: latlng[0].toFixed(6),
    lon: latlng[1].toFixed(6),
    acc: number(state.position.accuracy),
  });
  gps.classList.toggle("warn", state.position.accuracy > config.accuracyWarn);
  if (!$("#view-due").hidden) renderDue();
  if (!$("#view-register").hidden && state.pinFromGps) placePin(state.position.coords, true);
  else if (!$("#view-register").hidden && !state.pin) placePin(state.position.coords, true);
}
$("#gps").textContent = gettext("No GPS position yet.");
if ("geolocation" in navigator) {
  navigator.geolocation.watchPosition(onPosition, () => !state.position && ($("#gps").textContent = gettext("No GPS position yet.")), {
    enableHighAccuracy: true,
    maximumAge: 10000,
  });
}

// ---------- due list ----------
function distanceText(distance) {
  return distance < 1000 ? `${number(distance)} m` : `${number(distance / 1000, 1)} km`;
}

// Text as a search compares it: no case, no tone marks, đ as d ("Giếng" is found by "gieng").
const plain = (text) =>
  String(text ?? "")
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .replace(/đ/gi, "d")
    .toLowerCase();

// The due list, or, while the worker searches, every site of theirs whose name or code
// holds each word typed (the spreadsheet's Ctrl-F), nearest first.
function renderDue() {
  const list = $("#due-list");
  list.replaceChildren();
  const here = state.position?.coords;
  const words = plain($("#site-search").value).split(/\s+/).filter(Boolean);
  const wanted = words.length
    ? (p) => words.every((word) => plain(`${p.code} ${p.name}`).includes(word))
    : (p) => p.due;
  const due = allSites()
    .filter((f) => wanted(f.properties))
    .map((f) => ({ feature: f, distance: here ? distanceMetres(here, f.geometry.coordinates) : null }))
    // The server ranks what goes first (an order awaiting verification, then campaign sites).
    .sort((a, b) => (b.feature.properties.first || 0) - (a.feature.properties.first || 0) || (a.distance ?? 0) - (b.distance ?? 0));
  if (!due.length) {
    const empty = document.createElement("li");
    empty.textContent = words.length ? gettext("None of your sites has this name or code.") : gettext("No site is due for inspection.");
    list.append(empty);
  }
  for (const { feature, distance } of due.slice(0, DUE_SHOWN)) {
    const p = feature.properties;
    const item = document.createElement("li");
    item.className = `card state-${stateOf(p)}`;
    item.dataset.id = p.id;
    const text = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = `${p.code} · ${p.name}`;
    const meta = document.createElement("span");
    meta.textContent =
      `${config.kinds[p.kind]} · ${STATE_LABEL[stateOf(p)]}` +
      ` · ${p.last_checked_at ? `${gettext("last checked")} ${day(p.last_checked_at)}` : gettext("never checked")}` +
      (distance !== null ? ` · ${distanceText(distance)}` : "") +
      (p.first ? ` · ${p.first === 2 ? gettext("order awaiting verification") : gettext("campaign")}` : "") +
      begunNote(feature);
    text.append(name, meta);
    const actions = [button(gettext("Inspect"), () => startInspection(feature), "primary")];
    if (words.length) actions.unshift(button(gettext("On the map"), () => showOnMap(feature), "on-map"));
    item.append(text, ...actions);
    list.append(item);
  }
  if (due.length > DUE_SHOWN) {
    const more = document.createElement("li");
    more.textContent = fmt(gettext("and %(n)s more, farther away"), { n: number(due.length - DUE_SHOWN) });
    list.append(more);
  }
}

// A site found by a search, shown on the map with its sheet open.
function showOnMap(feature) {
  show("map");
  const [lon, lat] = feature.geometry.coordinates;
  map.setView([lat, lon], Math.max(map.getZoom(), 17));
  openSheet(feature);
}

$("#site-search").addEventListener("input", renderDue);

// ---------- forms ----------
// Photos chosen for a form: each pick adds to them (the camera gives one per tap).
const picked = new WeakMap();

function renderThumbs(form) {
  const thumbs = $(".thumbs", form);
  thumbs.replaceChildren();
  for (const photo of picked.get(form)) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = URL.createObjectURL(photo.blob);
    image.alt = gettext("Photo");
    image.onload = () => URL.revokeObjectURL(image.src);
    const size = document.createElement("span");
    size.textContent = `${number(photo.bytes / 1000)} KB`;
    const remove = button("×", () => {
      picked.set(form, picked.get(form).filter((p) => p !== photo));
      renderThumbs(form);
    }, "remove");
    remove.setAttribute("aria-label", gettext("Remove this photo"));
    item.append(image, size, remove);
    thumbs.append(item);
  }
}

async function addPhotos(form, files) {
  const errors = $(".form-errors", form);
  for (const file of files) {
    try {
      picked.get(form).push(await preparePhoto(file));
    } catch {
      errors.textContent = fmt(gettext("%(name)s could not be read as a photo."), { name: file.name });
    }
    renderThumbs(form);
  }
}

function setupForm(form) {
  picked.set(form, []);
  $$(".choices", form).forEach((group) =>
    $$("button", group).forEach((choice) =>
      choice.addEventListener("click", () => choose(form, group.dataset.name, choice.dataset.value)),
    ),
  );
  for (const input of $$("input[type=file]", form)) {
    input.addEventListener("change", async () => {
      const files = [...input.files];
      input.value = "";
      await addPhotos(form, files);
      draftChanged(form);
    });
  }
  // Typing, a choice, a photo removed.
  form.addEventListener("input", () => draftChanged(form, 300));
  form.addEventListener("click", () => draftChanged(form));
  $(".cancel", form).addEventListener("click", () => {
    if (entered(form) && !confirm(gettext("Discard this form? What you entered, photos included, will be lost."))) return;
    const fixing = live.get(form)?.editing;
    closeDraft(form);
    resetForm(form);
    show(fixing ? "outbox" : "map");
  });
}

// What a form held when it opened (empty, or a refused record back to be fixed): Cancel
// asks before throwing away anything entered since.
const opened = new WeakMap();

// What is typed and chosen in a form, by name (photos apart).
function formValues(form) {
  const fields = $$("input[name]:not([type=file]), textarea[name]", form);
  return {
    fields: Object.fromEntries(fields.map((field) => [field.name, field.type === "checkbox" ? field.checked : field.value])),
    choices: Object.fromEntries($$(".choices", form).map((group) => [group.dataset.name, chosen(form, group.dataset.name)])),
  };
}

function formState(form) {
  return JSON.stringify(formValues(form));
}

function markOpened(form) {
  opened.set(form, { state: formState(form), photos: [...picked.get(form)] });
}

function entered(form) {
  const start = opened.get(form);
  const photos = picked.get(form);
  if (!start) return true;
  return start.state !== formState(form) || photos.length !== start.photos.length || photos.some((p, i) => p !== start.photos[i]);
}

function choose(form, name, value) {
  $$(`.choices[data-name=${name}] button`, form).forEach((b) => {
    b.classList.toggle("chosen", b.dataset.value === String(value));
    b.setAttribute("aria-pressed", String(b.dataset.value === String(value)));
  });
}

function chosen(form, name) {
  return $(`.choices[data-name=${name}] .chosen`, form)?.dataset.value ?? null;
}

function resetForm(form) {
  form.reset();
  picked.set(form, []);
  renderThumbs(form);
  $(".form-errors", form).textContent = "";
  $(".draft-note", form).hidden = true;
  $$(".choices", form).forEach((group) => {
    $$("button", group).forEach((b) => {
      b.classList.remove("chosen");
      b.removeAttribute("aria-pressed");
    });
    if (["deep_water", "water_present"].includes(group.dataset.name)) $("button", group).classList.add("chosen");
  });
}

// A refused record back in its form, to be fixed.
function fillForm(form, inspection, photos) {
  choose(form, "signage", inspection.signage);
  choose(form, "barrier", inspection.barrier);
  choose(form, "water_present", inspection.water_present);
  $("input[name=water_depth_m]", form).value = formatDecimal(inspection.water_depth_m, LANG);
  $("textarea[name=notes]", form).value = inspection.notes || "";
  picked.set(form, photos.filter((p) => !p.sent));
  renderThumbs(form);
}

// ---------- drafts ----------
// Every form begun (values, choices, a pin put by hand, photos) is kept on the tablet as
// it changes, for the person filling it, until it is saved or cancelled: the worker may
// leave a registration to inspect another site, leave one inspection for another, or
// Android may discard the page while the camera app is open. Each form has its draft,
// one per "slot": the registration of a new site, a site's inspection, a refused record
// being fixed. "Register a site", a site's "Inspect" and "Fix and send again" take up the
// draft of their slot where it was; the others wait, listed in the outbox view, and the
// form on screen when the page went away opens again on the next start.

// What each form holds now: { owner, form, editing (the record's id), record, site, key }.
const live = new Map();
const draftTimers = new Map();
const viewOf = (form) => form.closest(".view");

// Whether two slots are one: the same refused record, the registration, or the same site
// (a site from the list's first part has its code before its id).
function sameSlot(a, b) {
  if (a.form !== b.form || (a.editing || null) !== (b.editing || null)) return false;
  if (a.editing || a.form === registerForm.id) return true;
  const x = a.site.properties;
  const y = b.site.properties;
  return Boolean((x.id && x.id === y.id) || (x.code && x.code === y.code));
}

function myDrafts() {
  const who = person()?.username;
  return state.drafts.filter((d) => d.owner === who);
}

const draftFor = (slot) => myDrafts().find((d) => sameSlot(d, slot));

// Said beside a site whose inspection was begun and not saved ("Inspect" takes it up).
const begunNote = (feature) => (draftFor({ form: inspectForm.id, site: feature }) ? ` · ${gettext("inspection begun, not saved")}` : "");

// Whether `form` holds `slot` now (then it is shown as it is, not opened again).
const holds = (form, slot) => live.has(form) && sameSlot(live.get(form), slot);

// `form` begins to hold `slot`, after keeping what it held before under its own.
function begin(form, slot) {
  if (live.has(form)) keepDraft(form, false);
  live.set(form, { owner: person()?.username, form: form.id, editing: null, record: null, site: null, key: null, ...slot });
}

// Typing is kept after a pause; a choice, a photo or the pin at once.
function draftChanged(form, pause = 0) {
  if (!live.has(form)) return;
  clearTimeout(draftTimers.get(form));
  draftTimers.set(form, setTimeout(() => keepDraft(form), pause));
}

function storeDraft(draft) {
  state.drafts = [...state.drafts.filter((d) => d.key !== draft.key), draft];
  renderDrafts();
  return db.put("drafts", draft);
}

function removeDraft(key) {
  state.drafts = state.drafts.filter((d) => d.key !== key);
  renderDrafts();
  return db.remove("drafts", key);
}

// Reads the form at once (it may be emptied for another slot right after), then stores it.
function keepDraft(form, onScreen = !viewOf(form).hidden) {
  clearTimeout(draftTimers.get(form));
  const slot = live.get(form);
  if (!slot?.owner) return Promise.resolve();
  if (!entered(form)) {
    const key = slot.key;
    slot.key = null;
    return key ? removeDraft(key) : Promise.resolve();
  }
  slot.key ??= crypto.randomUUID();
  const draft = {
    key: slot.key,
    owner: slot.owner,
    form: form.id,
    editing: slot.editing,
    values: formValues(form),
    photos: [...picked.get(form)],
    onScreen,
    at: Date.now(),
  };
  // A pin from the GPS follows the GPS again when the form opens; one put by hand stays.
  if (form === registerForm) draft.pin = state.pinFromGps ? null : state.pin;
  else draft.site = { type: "Feature", geometry: slot.site.geometry, properties: slot.site.properties };
  return storeDraft(draft);
}

// Saved or cancelled: the form's draft goes.
function closeDraft(form) {
  clearTimeout(draftTimers.get(form));
  const key = live.get(form)?.key;
  live.delete(form);
  if (key) removeDraft(key);
}

// The camera app coming up hides the page: kept at once, not after the pause.
document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && live.forEach((_, form) => keepDraft(form)));
window.addEventListener("pagehide", () => live.forEach((_, form) => keepDraft(form)));

// The form just opened for its slot takes up that slot's draft, if there is one, and says so.
function takeUpDraft(form) {
  const slot = live.get(form);
  const draft = draftFor(slot);
  if (!draft) return;
  for (const [name, value] of Object.entries(draft.values.fields)) {
    const field = $(`[name=${name}]`, form);
    if (field?.type === "checkbox") field.checked = value;
    else if (field) field.value = value;
  }
  for (const [name, value] of Object.entries(draft.values.choices)) choose(form, name, value);
  picked.set(form, [...draft.photos]);
  renderThumbs(form);
  if (form === registerForm && draft.pin) placePin(draft.pin, false);
  // Only now: a draft that could not be opened whole is never overwritten by what did open.
  slot.key = draft.key;
  const note = $(".draft-note", form);
  note.textContent = gettext("The form you had not saved was opened again as it was: check it, then tap Save.");
  note.hidden = false;
}

// A refused record being fixed: only while it still waits to be fixed.
const fixable = (id) => state.records.find((r) => r.id === id && ["refused", "conflict"].includes(r.state));

// Opens the form of a draft, where it was.
function resume(draft) {
  if (draft.editing) {
    const record = fixable(draft.editing);
    if (record) fixRecord(record);
    return;
  }
  if (draft.form === registerForm.id) return openRegistration();
  const { id, code } = draft.site.properties;
  startInspection(allSites().find((f) => (id && f.properties.id === id) || (code && f.properties.code === code)) || draft.site);
}

// The fix of a record that is no longer refused (sent again, or discarded) has nothing left to fix.
function dropOrphanDrafts() {
  const gone = (id) => id && !state.records.some((r) => r.id === id);
  for (const [form, slot] of live) {
    if (!gone(slot.editing)) continue;
    closeDraft(form);
    resetForm(form);
  }
  for (const draft of state.drafts) if (gone(draft.editing)) removeDraft(draft.key);
}

// The form that was on screen when the page went away opens again.
async function restoreDraft() {
  const draft = myDrafts()
    .filter((d) => d.onScreen !== false && (!d.editing || fixable(d.editing)))
    .sort((a, b) => b.at - a.at)[0];
  if (draft) resume(draft);
}

function draftTitle(draft) {
  const { fields } = draft.values;
  if (draft.form === registerForm.id) {
    const name = fields.name || gettext("no name yet");
    return `${draft.editing ? gettext("Fixing a refused record") : gettext("New site")}: ${name}`;
  }
  const p = draft.site.properties;
  const what = draft.editing ? gettext("Fixing a refused record") : gettext("Inspection");
  return `${what}: ${p.code ? `${p.code} · ` : ""}${p.name || ""}`;
}

// The worker's forms not saved yet, newest first, each to continue or to discard.
function renderDrafts() {
  const drafts = myDrafts().sort((a, b) => b.at - a.at);
  $("#draft-count").textContent = drafts.length;
  $("#drafts-button").hidden = !drafts.length;
  $("#drafts").hidden = !drafts.length;
  const list = $("#draft-list");
  list.replaceChildren();
  for (const draft of drafts) {
    const item = document.createElement("li");
    item.className = "card draft";
    item.dataset.key = draft.key;
    const text = document.createElement("div");
    const title = Object.assign(document.createElement("strong"), { textContent: draftTitle(draft) });
    const photos = draft.photos.length ? ` · ${fmt(gettext("%(n)s photo(s)"), { n: draft.photos.length })}` : "";
    const when = Object.assign(document.createElement("span"), {
      textContent: `${fmt(gettext("not saved, last changed %(time)s %(day)s"), { time: clockTime(draft.at), day: day(draft.at) })}${photos}`,
    });
    text.append(title, when);
    item.append(
      text,
      button(gettext("Continue"), () => resume(draft), "primary continue"),
      button(gettext("Discard"), () => {
        if (!confirm(gettext("Discard this form? What you entered, photos included, will be lost."))) return;
        const form = [...live.keys()].find((f) => live.get(f).key === draft.key);
        if (form) {
          closeDraft(form);
          resetForm(form);
        } else removeDraft(draft.key);
      }, "discard"),
    );
    list.append(item);
  }
}

function inspectionPayload(form, extra) {
  return {
    id: crypto.randomUUID(),
    // The tablet's own clock; the server corrects it by the offset it measures (X-Device-Time).
    inspected_at: new Date().toISOString(),
    signage: chosen(form, "signage"),
    barrier: chosen(form, "barrier"),
    water_present: chosen(form, "water_present") === "true",
    water_depth_m: numberValue(form, "water_depth_m"),
    notes: $("textarea[name=notes]", form).value,
    gps_fix: state.position ? { type: "Point", coordinates: state.position.coords } : null,
    gps_accuracy_m: state.position ? state.position.accuracy : null,
    ...extra,
  };
}

// Number fields (data-number) are text fields: a number input would drop or mangle the
// decimal comma Vietnamese writes (2,5 became 25). Read here, sent with a point.
function fieldLabel(input) {
  return input.closest("label")?.firstChild?.textContent.trim() || input.name;
}

// What the server would refuse in the typed values, said before saving: the limits and
// their messages come from the server (config.limits), which checks them again.
function numberProblem(input, limit) {
  const read = parseDecimal(input.value);
  if (read.invalid) {
    return fmt(gettext("%(field)s: “%(text)s” is not a number. Write it like 2,5 or 2.5."), {
      field: fieldLabel(input),
      text: input.value.trim(),
    });
  }
  if (read.value === null || !limit) return null;
  const value = limit.places === undefined ? read.value : roundedHalfUp(read.text, limit.places);
  if (value <= limit.above || value > limit.max) return `${fieldLabel(input)}: ${limit.message}`;
  return null;
}

function fieldProblems(form) {
  const problems = [];
  for (const input of $$("input[name], textarea[name]", form)) {
    const limit = config.limits[input.name];
    if (!limit && input.dataset.number === undefined) continue;
    let problem = null;
    if (input.dataset.number !== undefined) problem = numberProblem(input, limit);
    // Characters as the server counts them (a value put back in the form may be longer
    // than the field lets a finger type).
    else if (limit?.maxLength && [...input.value].length > limit.maxLength) problem = limit.message;
    input.setAttribute("aria-invalid", String(Boolean(problem)));
    if (problem) problems.push(problem);
  }
  return problems;
}

function numberValue(form, name) {
  return parseDecimal($(`input[name=${name}]`, form).value).text ?? null;
}

function requireStates(form) {
  const missing = [];
  if (!chosen(form, "signage")) missing.push(gettext("Choose the state of the warning sign."));
  if (!chosen(form, "barrier")) missing.push(gettext("Choose the state of the barrier."));
  return missing;
}

// ---------- register ----------
const registerForm = $("#register-form");
setupForm(registerForm);
const regMap = L.map("reg-map").setView([16, 106], 6);
basemapLayer().addTo(regMap);
const regAreaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(regMap);
let pinMarker = null;

function areaAt(point) {
  return state.areas.features.find((area) => inGeometry(point, area.geometry)) || null;
}

function insideMyAreas(point) {
  return !state.areas.features.length || Boolean(areaAt(point));
}

const OUTSIDE = () => gettext("This point is outside the areas you work in. Move the pin to the site, or ask your manager.");

// The check runs as the pin moves and is shown beside it, before anything is typed.
function checkPin() {
  const inside = insideMyAreas(state.pin);
  const area = areaAt(state.pin);
  const text = inside ? (area ? area.properties.name : "") : OUTSIDE();
  $("#pin-check").textContent = inside ? "" : text;
  pinMarker.unbindTooltip();
  // A text node: the area name (from a boundary file) must not be read as HTML.
  if (text) pinMarker.bindTooltip(document.createTextNode(text), { permanent: true, direction: "top", offset: [0, -36], className: inside ? "pin-ok" : "pin-outside" }).openTooltip();
  pinMarker.getElement()?.classList.toggle("outside", !inside);
}

function describePin() {
  const where = $("#reg-location");
  const confirm = $("#accuracy-confirm");
  where.classList.remove("warn", "danger");
  confirm.hidden = true;
  if (!state.pin) {
    where.textContent = gettext("No GPS position: tap the map where the site is to place the pin.");
    where.classList.add("warn");
    return;
  }
  const [lon, lat] = state.pin;
  if (!state.pinFromGps) {
    const gps = state.position ? ` · ${gettext("GPS")} ${accuracyText(state.position.accuracy)}` : "";
    where.textContent = `${lat.toFixed(6)}, ${lon.toFixed(6)} (${gettext("placed by hand")})${gps}`;
    return;
  }
  const accuracy = state.position.accuracy;
  let text = `${lat.toFixed(6)}, ${lon.toFixed(6)} (${gettext("from GPS")}, ${accuracyText(accuracy)})`;
  if (accuracy > config.accuracyConfirm) {
    text += `. ${gettext("The GPS is far from precise: move the pin onto the site, or confirm below that it is there.")}`;
    where.classList.add("danger");
    confirm.hidden = false;
  } else if (accuracy > config.accuracyWarn) {
    text += `. ${gettext("The GPS is not precise: check that the pin is on the site.")}`;
    where.classList.add("warn");
  }
  where.textContent = text;
}

function placePin(point, fromGps) {
  state.pin = [...point];
  state.pinFromGps = fromGps;
  const latlng = [point[1], point[0]];
  if (!pinMarker) {
    pinMarker = L.marker(latlng, { draggable: true, autoPan: true, title: gettext("The site") }).addTo(regMap);
    pinMarker.on("drag dragend", () => {
      const position = pinMarker.getLatLng();
      state.pin = [position.lng, position.lat];
      state.pinFromGps = false;
      describePin();
      checkPin();
      draftChanged(registerForm);
    });
  } else {
    pinMarker.setLatLng(latlng);
    if (!regMap.hasLayer(pinMarker)) pinMarker.addTo(regMap);
  }
  if (fromGps) regMap.setView(latlng, 17);
  describePin();
  checkPin();
  if (!fromGps) draftChanged(registerForm);
}

// A tap on the map puts the pin there: the only way without a GPS fix.
regMap.on("click", (event) => placePin([event.latlng.lng, event.latlng.lat], false));

// The registration form, empty, for a new site or for a refused one (`record`) to be fixed.
function openRegister(record = null) {
  begin(registerForm, { editing: record?.id ?? null, record });
  resetForm(registerForm);
  state.allowDuplicate = false;
  state.pin = null;
  state.pinFromGps = false;
  if (pinMarker) pinMarker.remove();
  $("#pin-check").textContent = "";
  show("register");
  if (state.position) placePin(state.position.coords, true);
  else {
    if (state.areas.features.length) regMap.fitBounds(regAreaLayer.getBounds());
    describePin();
  }
  markOpened(registerForm);
}

// "Register a site": the registration begun and not saved is taken up where it was.
function openRegistration() {
  if (holds(registerForm, { form: registerForm.id })) return show("register");
  openRegister();
  takeUpDraft(registerForm);
}
$("#new-site").addEventListener("click", () => {
  if (nobodySignedIn()) return;
  openRegistration();
});

function nearbyDuplicate(point, kind) {
  return allSites()
    .filter((f) => f.properties.kind === kind && f.properties.id !== live.get(registerForm)?.editing)
    .map((f) => ({ feature: f, distance: distanceMetres(point, f.geometry.coordinates) }))
    .filter((x) => x.distance <= config.duplicateRadius)
    .sort((a, b) => a.distance - b.distance)[0];
}

function locationProblems() {
  if (!state.pin) return [gettext("Place the pin on the site: there is no GPS position.")];
  const problems = [];
  if (!insideMyAreas(state.pin)) problems.push(OUTSIDE());
  const vague = state.pinFromGps && state.position.accuracy > config.accuracyConfirm;
  if (vague && !$("input[name=accuracy_confirmed]", registerForm).checked) {
    problems.push(fmt(gettext("Confirm that the pin is on the site: the GPS is accurate only to ± %(acc)s m."), { acc: number(state.position.accuracy) }));
  }
  return problems;
}

registerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = $(".form-errors", registerForm);
  const kind = chosen(registerForm, "kind");
  const name = $("input[name=name]", registerForm).value.trim();
  const problems = [...locationProblems()];
  if (!kind) problems.push(gettext("Choose the kind of site."));
  if (!name) problems.push(gettext("Give the site a name."));
  problems.push(...requireStates(registerForm), ...fieldProblems(registerForm));
  errors.textContent = problems.join(" ");
  if (problems.length) return;
  const duplicate = nearbyDuplicate(state.pin, kind);
  if (duplicate && !state.allowDuplicate) {
    const p = duplicate.feature.properties;
    $("#duplicate-text").textContent = fmt(gettext("%(name)s (%(code)s), a site of the same kind, is %(m)s m away."), {
      name: p.name,
      code: p.code || gettext("not sent yet"),
      m: Math.round(duplicate.distance),
    });
    const dialog = $("#duplicate-dialog");
    dialog.showModal();
    $("#open-existing").onclick = () => {
      dialog.close();
      openExisting(duplicate.feature);
    };
    $("#register-anyway").onclick = () => {
      dialog.close();
      state.allowDuplicate = true;
      registerForm.requestSubmit();
    };
    return;
  }
  // The outbox record and the site share one UUID, so a replay is recognised.
  const editing = await takeEditing(registerForm);
  const id = editing ? editing.id : crypto.randomUUID();
  const inspection = inspectionPayload(registerForm, editing ? { id: editing.payload.inspection.id } : {});
  const payload = {
    id,
    kind,
    name,
    location: { type: "Point", coordinates: state.pin.map((v) => Number(v.toFixed(7))) },
    deep_water: chosen(registerForm, "deep_water") === "true",
    depth_m: numberValue(registerForm, "depth_m"),
    inspection,
  };
  const photos = picked.get(registerForm);
  if (editing) await outbox.resend(id, { payload, photos: [...editing.photos.filter((p) => p.sent), ...photos] });
  else await outbox.add({ id, type: "site", label: name, payload, photos });
  closeDraft(registerForm);
  resetForm(registerForm);
  show(editing ? "outbox" : "map");
  sync();
});

// ---------- inspect ----------
const inspectForm = $("#inspect-form");
setupForm(inspectForm);

async function renderLastState(feature) {
  const p = feature.properties;
  const box = $("#inspect-last");
  box.replaceChildren();
  box.className = `last-state state-${stateOf(p)}`;
  const text = document.createElement("p");
  if (!p.last_checked_at) {
    text.textContent = gettext("This site has never been inspected.");
    box.append(text);
    return;
  }
  text.textContent = `${gettext("Last inspection")}: ${day(p.last_checked_at)} · ${STATE_LABEL[stateOf(p)]} · ${describeStates(p)}`;
  const same = button(gettext("No change: record the same state"), () => recordNoChange(feature), "primary no-change");
  same.id = "no-change";
  box.append(text, same);
  const past = p.new || p.queued || !(await named(feature)) ? null : await siteHistory(p.id);
  const latest = past?.[0];
  if (latest && state.inspecting === feature) {
    box.dataset.water = String(latest.water_present);
    box.append(photoThumbs(latest.photos.slice(0, 1)));
  }
}

// A site's inspection form, with the inspection of that site begun and not saved, where
// it was; or empty for a refused inspection (`record`) to be fixed.
function startInspection(feature, record = null) {
  if (nobodySignedIn()) return;
  $("#site-sheet").hidden = true;
  const slot = { form: inspectForm.id, editing: record?.id ?? null, record, site: feature };
  if (holds(inspectForm, slot)) return show("inspect");
  begin(inspectForm, slot);
  state.inspecting = feature;
  resetForm(inspectForm);
  const p = feature.properties;
  $("#inspect-title").textContent = `${p.code || gettext("new")} · ${p.name}`;
  show("inspect");
  markOpened(inspectForm);
  if (!record) takeUpDraft(inspectForm);
  renderLastState(feature);
}

// A registration that turned out to be of a site already registered: what the worker saw
// and photographed there (sign, barrier, water, notes, photos) goes to that site's inspection.
function openExisting(feature) {
  const seen = formValues(registerForm);
  const photos = picked.get(registerForm);
  startInspection(feature);
  if (!live.has(inspectForm)) return; // nobody signed in: the registration stays as it is
  for (const name of ["signage", "barrier", "water_present"]) if (seen.choices[name]) choose(inspectForm, name, seen.choices[name]);
  for (const name of ["water_depth_m", "notes"]) if (seen.fields[name]) $(`[name=${name}]`, inspectForm).value = seen.fields[name];
  picked.set(inspectForm, [...picked.get(inspectForm), ...photos]);
  renderThumbs(inspectForm);
  keepDraft(inspectForm);
  closeDraft(registerForm);
  resetForm(registerForm);
}

// The record being fixed, to be sent again under its ids; after a conflict (another
// record is stored under them) it goes as a new record instead.
async function takeEditing(form) {
  const slot = live.get(form);
  const editing = slot?.record;
  if (editing?.state !== "conflict") return editing;
  // The form no longer fixes the old record, which leaves the outbox: what it holds is new.
  slot.editing = null;
  slot.record = null;
  await outbox.discard(editing.id);
  return null;
}

async function queueInspection(payload, photos) {
  const site = state.inspecting.properties;
  const editing = live.get(inspectForm)?.record;
  if (editing) await outbox.resend(editing.id, { payload, photos: [...editing.photos.filter((p) => p.sent), ...photos] });
  else await outbox.add({ id: payload.id, type: "inspection", label: site.name, payload, photos });
  const back = live.get(inspectForm)?.editing ? "outbox" : "due";
  closeDraft(inspectForm);
  resetForm(inspectForm);
  show(back);
  sync();
}

// The inspected site's id: a site from the due list may still wait for the site list's
// second part.
async function inspectedSiteId() {
  if (await named(state.inspecting)) return state.inspecting.properties.id;
  $(".form-errors", inspectForm).textContent = gettext(
    "The site list has not fully reached the tablet yet: connect to the network and save again.",
  );
  return null;
}

// One tap: the same sign and barrier as last time, seen today.
async function recordNoChange(feature) {
  const p = feature.properties;
  const problems = fieldProblems(inspectForm);
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  choose(inspectForm, "signage", p.signage);
  choose(inspectForm, "barrier", p.barrier);
  const water = $("#inspect-last").dataset.water;
  if (water) choose(inspectForm, "water_present", water);
  await queueInspection(inspectionPayload(inspectForm, { site }), picked.get(inspectForm));
}

inspectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problems = [...requireStates(inspectForm), ...fieldProblems(inspectForm)];
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  const editing = await takeEditing(inspectForm);
  const extra = editing ? { id: editing.id, site } : { site };
  await queueInspection(inspectionPayload(inspectForm, extra), picked.get(inspectForm));
});

// ---------- outbox view ----------
const OUTBOX_STATE = {
  pending: gettext("Waiting to send"),
  sending: gettext("Sending"),
  sent: gettext("Sent"),
  refused: gettext("Refused"),
  conflict: gettext("Conflict"),
};

// "Fix and send again": the record in its form, with the fix begun and not saved where it was.
function fixRecord(record) {
  const form = record.type === "site" ? registerForm : inspectForm;
  if (holds(form, { form: form.id, editing: record.id })) return show(form === registerForm ? "register" : "inspect");
  if (record.type === "site") {
    openRegister(record);
    const p = record.payload;
    choose(registerForm, "kind", p.kind);
    $("input[name=name]", registerForm).value = p.name;
    choose(registerForm, "deep_water", p.deep_water);
    $("input[name=depth_m]", registerForm).value = formatDecimal(p.depth_m, LANG);
    fillForm(registerForm, p.inspection, record.photos);
    placePin(p.location.coordinates, false);
  } else {
    const feature = allSites().find((f) => f.properties.id === record.payload.site) || {
      properties: { id: record.payload.site, name: record.label, code: "" },
    };
    startInspection(feature, record);
    fillForm(inspectForm, record.payload, record.photos);
  }
  $(".form-errors", form).textContent = record.error || "";
  markOpened(form);
  takeUpDraft(form);
}

function renderOutbox(records) {
  const unsent = outbox.unsent(records).length;
  $("#unsent-count").textContent = unsent;
  const list = $("#outbox-list");
  list.replaceChildren();
  if (!records.length) {
    const empty = document.createElement("li");
    empty.textContent = gettext("Nothing to send.");
    list.append(empty);
  }
  // A record names its site by code too: a commune has many "Ao UBND xã" of one name.
  const codes = new Map(state.sites.features.map((f) => [f.properties.id, f.properties.code]));
  const newSites = new Set(outbox.unsent(records).filter((r) => r.type === "site").map((r) => r.id));
  for (const record of [...records].reverse()) {
    const item = document.createElement("li");
    item.className = `card outbox-${record.state}`;
    item.dataset.id = record.id;
    const text = document.createElement("div");
    const what = { site: gettext("New site"), inspection: gettext("Inspection"), closure: gettext("Closure proposal") }[record.type];
    const photoCount = record.photos.length
      ? ` · ${fmt(gettext("%(n)s photo(s), %(kb)s KB"), { n: record.photos.length, kb: number(record.photos.reduce((s, p) => s + (p.bytes || 0), 0) / 1000) })}`
      : "";
    const title = document.createElement("strong");
    const code = record.type === "site" ? null : codes.get(record.payload.site);
    title.textContent = `${what}: ${code ? `${code} · ` : ""}${record.label}`;
    const when = document.createElement("span");
    when.textContent = `${clockTime(record.created)} ${day(record.created)}${photoCount}`;
    text.append(title, when);
    if (record.result?.code) text.append(Object.assign(document.createElement("em"), { textContent: record.result.code }));
    if (record.state !== "sent" && !outbox.mine(record)) {
      const owner = fmt(gettext("Made by %(name)s: it waits on this tablet until %(name)s signs in again, and is sent under their name."), {
        name: record.owner.name,
      });
      text.append(Object.assign(document.createElement("span"), { className: "owner", textContent: owner }));
    }
    if (record.state === "pending" && record.type !== "site" && newSites.has(record.payload.site)) {
      const after = gettext("It goes once its new site has been sent.");
      text.append(Object.assign(document.createElement("span"), { className: "after-site", textContent: after }));
    }
    if (record.state === "pending" && record.attempts) {
      const retry = document.createElement("span");
      retry.className = "retry";
      // In words: a status code means nothing to a worker (it stays in data-error for support).
      retry.dataset.error = record.error || "";
      retry.textContent = fmt(
        gettext("The server does not answer; the tablet tries again by itself at %(time)s (tried %(n)s times)."),
        { time: clockTime(record.retryAt), n: record.attempts },
      );
      text.append(retry, button(gettext("Send now"), sendNow, "send-now"));
    }
    if (record.error && ["refused", "conflict"].includes(record.state)) {
      text.append(Object.assign(document.createElement("span"), { className: "reason", textContent: record.error }));
    }
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.hidden = true;
    text.append(progress);
    const chip = document.createElement("span");
    chip.className = `chip ${record.state}`;
    chip.textContent = OUTBOX_STATE[record.state] || record.state;
    item.append(text, chip);
    if (record.state === "refused" || record.state === "conflict") {
      // A refused closure proposal (the site already closed, say) has nothing to fix.
      if (record.type !== "closure") item.append(button(gettext("Fix and send again"), () => fixRecord(record), "primary fix"));
      item.append(button(gettext("Discard"), () => {
        if (confirm(gettext("Discard this record? It has not reached the server and will be lost."))) outbox.discard(record.id);
      }, "discard"));
    }
    if (record.state === "sent") item.append(button(gettext("Clear"), () => outbox.discard(record.id)));
    list.append(item);
  }
}

outbox.onChange((records) => {
  state.records = records;
  dropOrphanDrafts();
  renderOutbox(records);
  renderSites();
  if (!$("#view-due").hidden) renderDue();
});

// Photo upload progress: the record's own bar, and the header's for everything being sent.
outbox.onProgress(({ id, loaded, total, round }) => {
  const overall = $("#overall-progress");
  if (!id) {
    overall.hidden = true;
    return;
  }
  const bar = $(`#outbox-list li[data-id="${id}"] progress`);
  if (bar) {
    bar.hidden = false;
    bar.value = total ? loaded / total : 0;
  }
  overall.hidden = false;
  $("progress", overall).value = round.sentBytes / (round.bytes || 1);
  $("span", overall).textContent = fmt(gettext("Sent %(sent)s of %(records)s records · photos %(done)s of %(total)s KB"), {
    sent: number(round.sent),
    records: number(round.records),
    done: number(round.sentBytes / 1000),
    total: number(round.bytes / 1000),
  });
});

// ---------- data and sync ----------
async function loadCached() {
  for (const key of ["me", "areas", "sites", "proposals"]) {
    const hit = await db.get("cache", key);
    if (hit) {
      // The site list is kept as the two parts' text (IndexedDB was slow to copy the
      // features, bench/NOTES.md); a tablet updated offline may still hold the features.
      state[key] = key === "sites" && !hit.value.features ? sitelist.fromText(hit.value.first, hit.value.rest) : hit.value;
      if (key === "sites") state.dataAt = hit.at;
    }
  }
  renderWho();
  renderAreas();
  renderSites();
  renderProposals();
  markSites();
}

// The site list's first part, and its version, which asks for the second part.
async function fetchSiteList() {
  const response = await apiResponse(config.urls.sites);
  const version = (response.headers.get("ETag") || "").replace(/^W\//, "").replaceAll('"', "");
  const first = await response.text();
  return { sites: sitelist.firstPart(JSON.parse(first)), version, first };
}

// Whether every site shown has its name and id yet, and the areas' outline is in
// (body[data-sites], for tests and support staff: "partial" while either is on its way).
function markSites() {
  document.body.dataset.sites = state.sites.complete === false || state.namingNow ? "partial" : "named";
}

function showSites(sites) {
  state.sites = sites;
  markSites();
  // Before the first outline has come: the map frames the sites (then draws them, once).
  if (!state.position && !state.areas.features.length && sites.features.length) {
    map.fitBounds(sites.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]), { animate: false });
  }
  renderSites();
  if (!$("#view-due").hidden) renderDue();
}

// Returns once the map and the due list are drawn; the areas' outline and the sites'
// names and ids (the list's second part) follow, and the tablet keeps the list once it
// has both parts. The outline (some 40 KB for a large commune) is asked for only then: on
// a slow network it would share the bandwidth with the sites, which the worker waits for.
async function refreshData() {
  // In parallel: on a slow network each request costs its round trips.
  const [me, list] = await Promise.all([apiGet(config.urls.me), fetchSiteList()]);
  state.me = me;
  await db.put("cache", { key: "me", value: me, at: Date.now() });
  renderWho();
  state.namingNow = true;
  showSites(list.sites);
  state.naming = afterPaint().then(() => Promise.all([refreshAreas(), nameSites(list), refreshProposals()])).finally(() => {
    state.namingNow = false;
    markSites();
  });
}

async function refreshAreas() {
  try {
    state.areas = await apiGet(config.urls.areas);
    await db.put("cache", { key: "areas", value: state.areas, at: Date.now() });
    renderAreas();
  } catch (error) {
    if (error instanceof outbox.SignedOut) authLost();
  }
}

// Resolves once the sites just drawn are on the screen (or soon, in a hidden tab): the
// second part's reading would otherwise hold their drawing back.
function afterPaint() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve));
    setTimeout(resolve, 250);
  });
}

async function nameSites({ sites, version, first }, tries = 2) {
  try {
    const response = await apiResponse(`${config.urls.sitesRest}?version=${encodeURIComponent(version)}`, [412]);
    if (response.status === 412) {
      // The list changed in between: both parts again.
      if (!tries) return;
      const list = await fetchSiteList();
      if (state.sites === sites) showSites(list.sites);
      return nameSites(list, tries - 1);
    }
    const rest = await response.text();
    sitelist.complete(sites, JSON.parse(rest));
    if (state.sites !== sites) return; // a newer list came meanwhile
    markSites();
    state.dataAt = Date.now();
    await db.put("cache", { key: "sites", value: { first, rest }, at: state.dataAt });
    if (!$("#view-due").hidden) renderDue();
    historyAhead();
  } catch (error) {
    if (error instanceof outbox.SignedOut) authLost();
  }
}

// A site from the list's first part has its id and name once the second part is here.
async function named(feature) {
  if (!feature.properties.id && !feature.properties.new) await state.naming;
  return Boolean(feature.properties.id || feature.properties.new);
}

// The history of the nearest due sites, fetched while there is a network, for the field.
async function historyAhead() {
  const here = state.position?.coords;
  const due = state.sites.features
    .filter((f) => f.properties.due && f.properties.last_checked_at)
    .map((f) => ({ f, d: here ? distanceMetres(here, f.geometry.coordinates) : 0 }))
    .sort((a, b) => a.d - b.d)
    .slice(0, HISTORY_AHEAD);
  for (const { f } of due) {
    if (!navigator.onLine || state.authLost) return;
    if (await db.get("cache", `history:${f.properties.id}`)) continue;
    await siteHistory(f.properties.id);
  }
}

function renderWho() {
  renderDrafts(); // whose they are
  if (!state.me) return;
  const who = `${state.me.name} · ${state.me.areas.map((a) => a.name).join(", ")}`;
  $("#who").textContent = who;
  $("#menu-who").textContent = state.device
    ? `${who} · ${fmt(gettext("paired as %(device)s"), { device: state.device.deviceName || state.device.username })}`
    : who;
}

// The server no longer accepts this tablet (token revoked, session ended): stop sending,
// keep every record, ask to pair again.
function authLost() {
  state.authLost = true;
  const text = document.createElement("span");
  const who = person();
  if (!who) {
    text.textContent = gettext(
      "No one is signed in on this tablet. Sign in, or pair the tablet, before recording: a record made now could never be sent.",
    );
  } else if (state.device) {
    text.textContent = gettext("This tablet's pairing was revoked or has ended. Nothing is sent until it is paired again; your records are kept.");
  } else {
    text.textContent = fmt(
      gettext("Your session has ended. Sign in again as %(name)s (or pair this tablet) to send your records; until then they stay on this tablet."),
      { name: who.name },
    );
  }
  const again = button(gettext("Pair this tablet"), () => show("pair"), "primary");
  const signIn = Object.assign(document.createElement("a"), { href: config.urls.login, textContent: gettext("Sign in") });
  banner(text, " ", again, " ", signIn);
}

let syncing = false;
// Asked for while a round was sending (a record saved meanwhile): the round sends again
// before it ends, rather than leaving the record to the next half-minute round.
let syncAgain = false;
let retryTimer = null;
// Rounds ended, on the page (data-sync-rounds): a test waits for the next one instead of
// waiting a while.
let syncRounds = 0;
async function sync() {
  if (state.authLost || !navigator.onLine) return;
  if (syncing) {
    syncAgain = true;
    return;
  }
  syncing = true;
  try {
    let result;
    do {
      syncAgain = false;
      result = await outbox.flush();
    } while (syncAgain && result === "done");
    if (result === "signed-out") return authLost();
    if (["done", "unanswered"].includes(result)) state.serverDown = result === "unanswered";
    renderNetwork();
    const sentSomething = state.records.some((r) => r.state === "sent" && r.sentAt > state.dataAt);
    const stale = sentSomething || Date.now() - state.dataAt > DATA_MAX_AGE_MS;
    if (result === "done" && stale && !state.namingNow) await refreshData();
    // A decision awaited is looked for at each round (an unchanged list costs a 304).
    else if (result === "done" && state.proposals.some((p) => p.status === "pending")) await refreshProposals();
  } catch (error) {
    if (error instanceof outbox.SignedOut) authLost();
  } finally {
    syncing = false;
    document.body.dataset.syncRounds = String(++syncRounds);
  }
  clearTimeout(retryTimer);
  const next = await outbox.nextRetry();
  if (next) retryTimer = setTimeout(sync, Math.max(1000, next - Date.now()));
}

// "Online" only says the tablet has a network: when the server took nothing at the last
// try, the pill says that instead.
function renderNetwork() {
  const net = $("#net");
  const status = !navigator.onLine ? "offline" : state.serverDown ? "server-down" : "online";
  net.textContent = { offline: gettext("Offline"), "server-down": gettext("The server does not answer"), online: gettext("Online") }[status];
  net.className = `pill ${status}`;
}

// The worker asks to send now rather than at the next try.
async function sendNow() {
  await outbox.retryNow();
  sync();
}

window.addEventListener("online", () => {
  renderNetwork();
  // The network is back: whatever waited goes now, not at its next try.
  sendNow();
});
window.addEventListener("offline", renderNetwork);
setInterval(sync, 30000);

// ---------- pairing, menu, sign-out ----------
const pairForm = $("#pair-form");
pairForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = $(".form-errors", pairForm);
  const code = pairForm.elements.code.value.trim();
  if (!code) {
    errors.textContent = gettext("Enter the code your manager shows you.");
    return;
  }
  errors.textContent = "";
  try {
    state.device = await pairing.pair(config.urls.pair, {
      code,
      // Empty: the server keeps the name the manager gave it.
      deviceName: pairForm.elements.device_name.value.trim(),
    });
  } catch (error) {
    errors.textContent = error.message;
    return;
  }
  state.authLost = false;
  banner();
  pairForm.reset();
  show("map");
  await refreshData().catch(() => {});
  sync();
});

const menu = $("#menu-dialog");
$("#menu-button").addEventListener("click", () => {
  $("#sign-out-note").textContent = "";
  menu.showModal();
});
$$("dialog .close").forEach((close) => close.addEventListener("click", () => close.closest("dialog").close()));
$("#pair-button").addEventListener("click", () => {
  menu.close();
  show("pair");
});

// Signing out leaves nothing of the worker on the tablet, so it is refused while records
// are unsent: they would be lost, or sent under the next person's name.
$("#sign-out-button").addEventListener("click", async () => {
  const records = await outbox.list();
  const waiting = outbox.unsent(records.filter(outbox.mine)).length;
  if (waiting) {
    $("#sign-out-note").textContent = fmt(
      gettext("%(n)s record(s) are not sent yet. Send them (with a network) before signing out, or they would be lost."),
      { n: waiting },
    );
    return;
  }
  const unsaved = myDrafts().length;
  if (unsaved) {
    $("#sign-out-note").textContent = fmt(
      gettext("%(n)s form(s) you began are not saved (Outbox, Forms not saved). Save or discard them before signing out."),
      { n: unsaved },
    );
    return;
  }
  await fetch(config.urls.logout, { method: "POST", credentials: "same-origin", headers: outbox.headers() }).catch(() => null);
  await pairing.forget();
  await db.clear("cache");
  // Another person's records stay for their next sign-in.
  for (const record of records.filter(outbox.mine)) await db.remove("outbox", record.id);
  await caches.delete(PHOTOS);
  location.reload();
});

$("#offline-map-button").addEventListener("click", async () => {
  menu.close();
  const dialog = $("#tiles-dialog");
  // The tile server's terms forbid storing its tiles: the dialog says why, nothing is fetched.
  if (!basemap.offline) return dialog.showModal();
  const tiles = await import("./offline-map.js");
  const urls = tiles.tileUrls(basemap.url, state.areas, config.offlineZooms);
  const status = await tiles.status(urls);
  $("#tiles-estimate").textContent = fmt(
    gettext("%(total)s map tiles (zoom %(min)s to %(max)s) cover your communes; %(stored)s are on this tablet. Downloading the rest takes about %(mb)s MB."),
    { total: number(status.total), stored: number(status.stored), min: config.offlineZooms[0], max: config.offlineZooms[1], mb: number(status.estimatedBytes / 1e6, 1) },
  );
  $("#tiles-status").textContent = "";
  $("#tiles-progress").hidden = true;
  dialog.showModal();
  $("#tiles-download").onclick = async () => {
    await navigator.storage?.persist?.();
    const bar = $("#tiles-progress");
    bar.hidden = false;
    const done = await tiles.download(urls, ({ done, total, bytes }) => {
      bar.value = total ? done / total : 1;
      $("#tiles-status").textContent = fmt(gettext("%(done)s of %(total)s tiles, %(mb)s MB"), {
        done: number(done), total: number(total), mb: number(bytes / 1e6, 1),
      });
    });
    $("#tiles-status").textContent = done.failed
      ? fmt(gettext("Stored, except %(n)s tiles that could not be fetched: try again with a better network."), { n: number(done.failed) })
      : gettext("The map of your communes is on this tablet: it shows without a network.");
  };
});

// ---------- start ----------
// Asked once: without it Android may clear the outbox, unsent evidence included, when
// storage runs low.
navigator.storage?.persist?.();

renderNetwork();
state.device = await pairing.stored();
state.records = await outbox.list();
await outbox.clearOldSent();
state.drafts = await db.all("drafts");
await loadCached();
renderOutbox(state.records);
const pairCode = pairing.codeFromHash();
if (pairCode) {
  pairForm.elements.code.value = pairCode;
  history.replaceState(null, "", location.pathname);
  show("pair");
} else if (!state.me && !navigator.onLine) {
  show("pair");
}
if (navigator.onLine && !pairCode) {
  try {
    if (!state.dataAt || Date.now() - state.dataAt > DATA_MAX_AGE_MS || outbox.unsent(state.records).length) {
      await refreshData();
    } else if ((await apiGet(config.urls.me)).username !== state.me?.username) {
      // Another person signed in on this tablet since the list was kept: until now the app
      // took them for the one before, whose forms and records it offered them.
      await refreshData();
    } else {
      refreshProposals(); // a manager may have decided since
    }
  } catch (error) {
    if (error instanceof outbox.SignedOut) {
      // The banner says what to do: sign in (again, as whom), or pair the tablet.
      authLost();
      if (!person()) show("pair");
    }
  }
}
sync();
// Only now: on a slow network the service worker's copy of the app would compete with
// the data the worker is waiting for.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope });
}
// A draft the app cannot open again (from an older app) must not keep the app from starting;
// it stays listed, to be tried again or discarded by the worker.
dropOrphanDrafts();
if (!pairCode) await restoreDraft().catch(() => {});
// For tests and support staff at the console: the two maps and the site markers.
window.survey = { map, regMap, sites: siteLayer };
document.body.dataset.ready = "true";
