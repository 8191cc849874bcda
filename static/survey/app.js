// The survey app: map of the worker's area, sites due for inspection, registering and
// inspecting sites, all working offline through the outbox.
import * as db from "./db.js";
import { distanceMetres, inGeometry } from "./geo.js";
import * as outbox from "./outbox.js";

const config = JSON.parse(document.getElementById("survey-config").textContent);
// gettext and interpolate come from Django's JavaScript catalogue (survey/jsi18n/).
const { gettext, interpolate } = window;
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const state = {
  me: null,
  areas: { type: "FeatureCollection", features: [] },
  sites: { type: "FeatureCollection", features: [] },
  position: null, // { coords: [lon, lat], accuracy }
  pin: null, // registration point chosen by the worker
  inspecting: null,
  allowDuplicate: false,
};

outbox.configure(config);

// ---------- views ----------
function show(name) {
  $$(".view").forEach((view) => (view.hidden = view.id !== `view-${name}`));
  $$(".tabs [data-view]").forEach((tab) => tab.classList.toggle("active", tab.dataset.view === name));
  if (name === "map") map.invalidateSize();
  if (name === "due") renderDue();
  if (name === "register") regMap.invalidateSize();
}
$$("[data-view]").forEach((button) => button.addEventListener("click", () => show(button.dataset.view)));

function banner(text) {
  const element = $("#banner");
  element.hidden = !text;
  element.innerHTML = "";
  if (text) element.append(text);
}

// ---------- site state ----------
function siteState(p) {
  if (p.signage === "in_place" && p.barrier === "complete") return "protected";
  if (p.signage === "in_place") return "signed";
  if (p.barrier === "complete") return "fenced";
  return "unprotected";
}
const STATE_LABEL = {
  protected: gettext("Protected"),
  signed: gettext("Signed only"),
  fenced: gettext("Fenced only"),
  unprotected: gettext("Not protected"),
  queued: gettext("Not sent yet"),
};

// Sites known to the server plus those still in the outbox, for the map and duplicate checks.
async function allSites() {
  const queued = (await outbox.list())
    .filter((r) => r.type === "site" && r.state !== "sent")
    .map((r) => ({
      type: "Feature",
      geometry: r.payload.location,
      properties: { id: r.id, code: "", name: r.payload.name, kind: r.payload.kind, queued: true,
        signage: r.payload.inspection?.signage, barrier: r.payload.inspection?.barrier },
    }));
  const sentIds = new Set(queued.map((f) => f.properties.id));
  return [...state.sites.features.filter((f) => !sentIds.has(f.properties.id)), ...queued];
}

// ---------- map ----------
const map = L.map("map", { zoomControl: true }).setView([16, 106], 6);
L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
  maxZoom: 19,
  attribution: "&copy; OpenStreetMap",
}).addTo(map);
const AREA_STYLE = { color: "#0b3d91", weight: 2, fillOpacity: 0.04 };
const areaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(map);
const siteLayer = L.layerGroup().addTo(map);
let meMarker = null;
let meCircle = null;

async function renderSites() {
  siteLayer.clearLayers();
  for (const feature of await allSites()) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const status = p.queued ? "queued" : siteState(p);
    const marker = L.circleMarker([lat, lon], {
      radius: 11,
      weight: 3,
      className: `site-dot ${status}${p.due ? " due" : ""}`,
    });
    marker.on("click", () => openSheet(feature));
    marker.addTo(siteLayer);
  }
}

function openSheet(feature) {
  const p = feature.properties;
  const sheet = $("#site-sheet");
  sheet.hidden = false;
  sheet.innerHTML = "";
  const title = document.createElement("h2");
  title.textContent = `${p.code || gettext("new")} · ${p.name}`;
  const info = document.createElement("p");
  const status = p.queued ? "queued" : siteState(p);
  info.textContent = `${config.kinds[p.kind] || p.kind} · ${STATE_LABEL[status]}` +
    (p.last_checked_at ? ` · ${gettext("last checked")} ${new Date(p.last_checked_at).toLocaleDateString()}` : "");
  const actions = document.createElement("div");
  actions.className = "actions";
  const inspect = document.createElement("button");
  inspect.className = "primary";
  inspect.textContent = gettext("Inspect");
  inspect.addEventListener("click", () => startInspection(feature));
  const close = document.createElement("button");
  close.textContent = gettext("Close");
  close.addEventListener("click", () => (sheet.hidden = true));
  actions.append(inspect, close);
  sheet.append(title, info, actions);
}

function renderAreas() {
  for (const layer of [areaLayer, regAreaLayer]) {
    layer.clearLayers();
    layer.addData(state.areas);
  }
  if (!state.position && state.areas.features.length) map.fitBounds(areaLayer.getBounds());
}

// ---------- GPS ----------
function onPosition(position) {
  const first = !state.position;
  state.position = {
    coords: [position.coords.longitude, position.coords.latitude],
    accuracy: Math.round(position.coords.accuracy),
  };
  const latlng = [position.coords.latitude, position.coords.longitude];
  if (!meMarker) {
    meCircle = L.circle(latlng, { radius: state.position.accuracy, className: "me-accuracy" }).addTo(map);
    meMarker = L.circleMarker(latlng, { radius: 8, className: "me" }).addTo(map);
  } else {
    meMarker.setLatLng(latlng);
    meCircle.setLatLng(latlng).setRadius(state.position.accuracy);
  }
  if (first) map.setView(latlng, 14);
  $("#gps").textContent = interpolate(gettext("GPS: %(lat)s, %(lon)s (± %(acc)s m)"),
    { lat: latlng[0].toFixed(6), lon: latlng[1].toFixed(6), acc: state.position.accuracy }, true);
  if (!$("#view-due").hidden) renderDue();
}
if ("geolocation" in navigator) {
  navigator.geolocation.watchPosition(onPosition, () => ($("#gps").textContent = gettext("No GPS position yet.")), {
    enableHighAccuracy: true,
    maximumAge: 10000,
  });
}

// ---------- due list ----------
async function renderDue() {
  const list = $("#due-list");
  list.innerHTML = "";
  const here = state.position?.coords;
  const due = state.sites.features
    .filter((f) => f.properties.due)
    .map((f) => ({ feature: f, distance: here ? distanceMetres(here, f.geometry.coordinates) : null }))
    .sort((a, b) => (a.distance ?? 0) - (b.distance ?? 0));
  if (!due.length) {
    const empty = document.createElement("li");
    empty.textContent = gettext("No site is due for inspection.");
    list.append(empty);
  }
  for (const { feature, distance } of due) {
    const p = feature.properties;
    const item = document.createElement("li");
    item.className = `card ${siteState(p)}`;
    const text = document.createElement("div");
    text.innerHTML = "<strong></strong><span></span>";
    text.firstChild.textContent = `${p.code} · ${p.name}`;
    text.lastChild.textContent = `${config.kinds[p.kind]} · ${STATE_LABEL[siteState(p)]}` +
      (distance !== null ? ` · ${distance < 1000 ? Math.round(distance) + " m" : (distance / 1000).toFixed(1) + " km"}` : "");
    const button = document.createElement("button");
    button.className = "primary";
    button.textContent = gettext("Inspect");
    button.addEventListener("click", () => startInspection(feature));
    item.append(text, button);
    list.append(item);
  }
}

// ---------- forms ----------
function setupChoices(form) {
  $$(".choices", form).forEach((group) =>
    $$("button", group).forEach((button) =>
      button.addEventListener("click", () => {
        $$("button", group).forEach((b) => b.classList.toggle("chosen", b === button));
        button.setAttribute("aria-pressed", "true");
      }),
    ),
  );
  const input = $("input[name=photos]", form);
  input.addEventListener("change", () => {
    const thumbs = $(".thumbs", form);
    thumbs.innerHTML = "";
    for (const file of input.files) {
      const image = document.createElement("img");
      image.src = URL.createObjectURL(file);
      image.alt = file.name;
      thumbs.append(image);
    }
  });
  $(".cancel", form).addEventListener("click", () => {
    resetForm(form);
    show("map");
  });
}

function chosen(form, name) {
  return $(`.choices[data-name=${name}] .chosen`, form)?.dataset.value ?? null;
}

function resetForm(form) {
  form.reset();
  $(".thumbs", form).innerHTML = "";
  $(".form-errors", form).textContent = "";
  $$(".choices", form).forEach((group) => {
    $$("button", group).forEach((b) => b.classList.remove("chosen"));
    if (["deep_water", "water_present"].includes(group.dataset.name)) $("button", group).classList.add("chosen");
  });
}

function inspectionPayload(form, extra) {
  const depth = $("input[name=water_depth_m]", form).value;
  return {
    id: crypto.randomUUID(),
    inspected_at: new Date().toISOString(),
    signage: chosen(form, "signage"),
    barrier: chosen(form, "barrier"),
    water_present: chosen(form, "water_present") === "true",
    water_depth_m: depth || null,
    notes: $("textarea[name=notes]", form).value,
    gps_fix: state.position ? { type: "Point", coordinates: state.position.coords } : null,
    gps_accuracy_m: state.position ? state.position.accuracy : null,
    ...extra,
  };
}

function photosOf(form) {
  return [...$("input[name=photos]", form).files].map((file) => ({
    id: crypto.randomUUID(),
    type: file.type || "image/jpeg",
    blob: file,
    sent: false,
  }));
}

function requireStates(form) {
  const missing = [];
  if (!chosen(form, "signage")) missing.push(gettext("Choose the state of the warning sign."));
  if (!chosen(form, "barrier")) missing.push(gettext("Choose the state of the barrier."));
  return missing;
}

// ---------- register ----------
const registerForm = $("#register-form");
setupChoices(registerForm);
const regMap = L.map("reg-map").setView([16, 106], 6);
L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 19 }).addTo(regMap);
const regAreaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(regMap);
let pinMarker = null;

function describePin() {
  const [lon, lat] = state.pin;
  const source = state.pinFromGps
    ? interpolate(gettext("from GPS, accurate to %(acc)s m"), { acc: state.position.accuracy }, true)
    : gettext("placed by hand");
  $("#reg-location").textContent = `${lat.toFixed(6)}, ${lon.toFixed(6)} (${source})`;
}

$("#new-site").addEventListener("click", () => {
  resetForm(registerForm);
  state.allowDuplicate = false;
  state.pinFromGps = Boolean(state.position);
  state.pin = state.position ? [...state.position.coords] : [map.getCenter().lng, map.getCenter().lat];
  show("register");
  const latlng = [state.pin[1], state.pin[0]];
  regMap.setView(latlng, 17);
  if (!pinMarker) {
    pinMarker = L.marker(latlng, { draggable: true, autoPan: true }).addTo(regMap);
    pinMarker.on("dragend", () => {
      const position = pinMarker.getLatLng();
      state.pin = [position.lng, position.lat];
      state.pinFromGps = false;
      describePin();
    });
  } else {
    pinMarker.setLatLng(latlng);
  }
  describePin();
});

function insideMyAreas(point) {
  const areas = state.areas.features;
  return !areas.length || areas.some((area) => inGeometry(point, area.geometry));
}

async function nearbyDuplicate(point, kind) {
  const sites = await allSites();
  return sites
    .filter((f) => f.properties.kind === kind)
    .map((f) => ({ feature: f, distance: distanceMetres(point, f.geometry.coordinates) }))
    .filter((x) => x.distance <= config.duplicateRadius)
    .sort((a, b) => a.distance - b.distance)[0];
}

registerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = $(".form-errors", registerForm);
  const kind = chosen(registerForm, "kind");
  const name = $("input[name=name]", registerForm).value.trim();
  const problems = [];
  if (!kind) problems.push(gettext("Choose the kind of site."));
  if (!name) problems.push(gettext("Give the site a name."));
  problems.push(...requireStates(registerForm));
  if (!insideMyAreas(state.pin)) {
    problems.push(gettext("This point is outside the areas you work in. Move the pin to the site, or ask your manager."));
  }
  errors.textContent = problems.join(" ");
  if (problems.length) return;
  const duplicate = await nearbyDuplicate(state.pin, kind);
  if (duplicate && !state.allowDuplicate) {
    const p = duplicate.feature.properties;
    $("#duplicate-text").textContent = interpolate(
      gettext("%(name)s (%(code)s), a site of the same kind, is %(m)s m away."),
      { name: p.name, code: p.code || gettext("not sent yet"), m: Math.round(duplicate.distance) },
      true,
    );
    const dialog = $("#duplicate-dialog");
    dialog.showModal();
    $("#open-existing").onclick = () => {
      dialog.close();
      resetForm(registerForm);
      startInspection(duplicate.feature);
    };
    $("#register-anyway").onclick = () => {
      dialog.close();
      state.allowDuplicate = true;
      registerForm.requestSubmit();
    };
    return;
  }
  const depth = $("input[name=depth_m]", registerForm).value;
  const inspection = inspectionPayload(registerForm);
  // The outbox record and the site share one UUID, so a replay is recognised.
  const id = crypto.randomUUID();
  await outbox.add({
    id,
    type: "site",
    label: name,
    payload: {
      id,
      kind,
      name,
      location: { type: "Point", coordinates: state.pin.map((v) => Number(v.toFixed(7))) },
      deep_water: chosen(registerForm, "deep_water") === "true",
      depth_m: depth || null,
      inspection,
    },
    photos: photosOf(registerForm),
  });
  resetForm(registerForm);
  await renderSites();
  show("map");
  sync();
});

// ---------- inspect ----------
const inspectForm = $("#inspect-form");
setupChoices(inspectForm);

function startInspection(feature) {
  state.inspecting = feature;
  $("#site-sheet").hidden = true;
  resetForm(inspectForm);
  const p = feature.properties;
  $("#inspect-title").textContent = `${p.code || gettext("new")} · ${p.name}`;
  show("inspect");
}

inspectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problems = requireStates(inspectForm);
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = state.inspecting.properties;
  const payload = inspectionPayload(inspectForm, { site: site.id });
  await outbox.add({ id: payload.id, type: "inspection", label: site.name, payload, photos: photosOf(inspectForm) });
  resetForm(inspectForm);
  show("map");
  sync();
});

// ---------- outbox view ----------
const OUTBOX_STATE = {
  pending: gettext("Waiting to send"),
  sending: gettext("Sending"),
  sent: gettext("Sent"),
  failed: gettext("Refused"),
  conflict: gettext("Conflict"),
};

function renderOutbox(records) {
  const unsent = records.filter((r) => r.state !== "sent").length;
  $("#unsent-count").textContent = unsent;
  const list = $("#outbox-list");
  list.innerHTML = "";
  if (!records.length) {
    const empty = document.createElement("li");
    empty.textContent = gettext("Nothing to send.");
    list.append(empty);
  }
  for (const record of [...records].reverse()) {
    const item = document.createElement("li");
    item.className = `card outbox-${record.state}`;
    item.dataset.id = record.id;
    const text = document.createElement("div");
    const what = record.type === "site" ? gettext("New site") : gettext("Inspection");
    const photos = record.photos.length ? ` · ${interpolate(gettext("%(n)s photo(s)"), { n: record.photos.length }, true)}` : "";
    text.innerHTML = "<strong></strong><span></span><em></em>";
    text.children[0].textContent = `${what}: ${record.label}`;
    text.children[1].textContent = `${new Date(record.created).toLocaleString()}${photos}`;
    text.children[2].textContent = record.result?.code ? `${record.result.code}` : "";
    const chip = document.createElement("span");
    chip.className = `chip ${record.state}`;
    chip.textContent = OUTBOX_STATE[record.state] + (record.error ? `: ${record.error}` : "");
    item.append(text, chip);
    if (record.state === "failed" || record.state === "conflict" || record.state === "sent") {
      const drop = document.createElement("button");
      drop.textContent = record.state === "sent" ? gettext("Clear") : gettext("Discard");
      drop.addEventListener("click", () => outbox.discard(record.id));
      item.append(drop);
    }
    list.append(item);
  }
}
outbox.onChange(renderOutbox);

// ---------- data and sync ----------
async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (response.redirected || response.status === 401 || response.status === 403) throw new Error("signed-out");
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

async function loadCached() {
  for (const key of ["me", "areas", "sites"]) {
    const hit = await db.get("cache", key);
    if (hit) state[key] = hit.value;
  }
  renderWho();
  renderAreas();
  await renderSites();
}

async function refreshData() {
  for (const key of ["me", "areas", "sites"]) {
    state[key] = await fetchJson(config.urls[key]);
    await db.put("cache", { key, value: state[key], at: Date.now() });
  }
  renderWho();
  renderAreas();
  await renderSites();
}

function renderWho() {
  if (state.me) $("#who").textContent = `${state.me.name} · ${state.me.areas.map((a) => a.name).join(", ")}`;
}

function signInLink() {
  const link = document.createElement("a");
  link.href = config.urls.login;
  link.textContent = gettext("Your session has ended: sign in again to send your records (they are kept).");
  return link;
}

let syncing = false;
async function sync() {
  if (syncing || !navigator.onLine) return;
  syncing = true;
  try {
    const result = await outbox.flush();
    if (result === "signed-out") {
      banner(signInLink());
      return;
    }
    if (result === "done") {
      banner("");
      await refreshData();
    }
  } catch (error) {
    if (error.message === "signed-out") banner(signInLink());
  } finally {
    syncing = false;
    await renderSites();
  }
}

function renderNetwork() {
  const net = $("#net");
  net.textContent = navigator.onLine ? gettext("Online") : gettext("Offline");
  net.className = `pill ${navigator.onLine ? "online" : "offline"}`;
}
window.addEventListener("online", () => {
  renderNetwork();
  sync();
});
window.addEventListener("offline", renderNetwork);
setInterval(sync, 30000);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.scope });
}

renderNetwork();
await loadCached();
renderOutbox(await outbox.list());
await sync();
document.body.dataset.ready = "true";
