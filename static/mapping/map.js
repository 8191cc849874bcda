// The planner map: vector tiles of the sites (clusters at low zoom), the child areas of
// the chosen area coloured by protected share, the list of sites in view, the priority
// list and a site's panel. Filters and the chosen area live in the address bar.
import { inGeometry } from "../survey/geo.js";
import { basemapLayer } from "../common/basemap.js";
import { paletteToCss, shareColour, shareLegend, STATE_COLOURS } from "../common/palette.js";
import { clusterIcon, siteIcon, KIND_SHAPES, kindSwatch } from "./symbols.js";

paletteToCss();

const T = JSON.parse(document.getElementById("map-strings").textContent);
const el = document.getElementById("map");
const fmt = (text, params) => text.replace(/%\((\w+)\)s/g, (_m, key) => params[key]);
// Counts in the page's language (1.234 in Vietnamese), not the browser's.
const count = (n) => n.toLocaleString(document.documentElement.lang || "vi");
const maxGridZoom = Number(el.dataset.maxGridZoom);
const tileBase = el.dataset.tiles.replace(/0\/0\/0\.pbf$/, "");
const FILTERS = ["kind", "signage", "barrier", "state", "due", "order"];

// Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop on a click, which Leaflet 1.9 no longer has.
L.DomEvent.fakeStop = L.DomEvent.fakeStop || L.DomEvent.stop;
// Leaflet 1.9 takes a small circle on a canvas for a marker and reads the event's place
// from its latlng; VectorGrid's symbols have none (their place is in their tile), so a
// click on a site threw and opened nothing. The event gets the pointer's place instead,
// as Leaflet gives it for every other shape.
L.Canvas.Tile.include({
  _fireEvent(layers, e, type) {
    const containerPoint = this._map.mouseEventToContainerPoint(e);
    const layerPoint = this._map.containerPointToLayerPoint(containerPoint);
    const latlng = this._map.layerPointToLatLng(layerPoint);
    for (const layer of layers) layer.fire(type || e.type, { originalEvent: e, containerPoint, layerPoint, latlng }, true);
  },
});

const params = new URLSearchParams(location.search);
const form = document.getElementById("filters");
for (const name of FILTERS) {
  const field = form.elements[name];
  if (field.type === "checkbox") field.checked = params.get(name) === "true";
  else field.value = params.get(name) || "";
}

function query(extra = {}) {
  const q = new URLSearchParams();
  for (const name of ["area", ...FILTERS]) if (params.get(name)) q.set(name, params.get(name));
  for (const [key, value] of Object.entries(extra)) q.set(key, value);
  return q.toString();
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function showError(error) {
  const note = document.getElementById("list-note");
  note.textContent = fmt(T.load_failed, { error: error.message });
  note.classList.add("errors");
}

// The map and its background. Without the internet the background fails and says so.
// No fade: with it, the transparent vector tiles of the old zoom level stayed drawn under the new ones.
const map = L.map(el, { minZoom: 4, maxZoom: 19, fadeAnimation: false }).setView([16, 106], 5);
map.createPane("areas").style.zIndex = 350;
map.createPane("sites").style.zIndex = 450;
map.createPane("marks").style.zIndex = 460;
const basemap = basemapLayer().addTo(map);
let basemapFailures = 0;
basemap.on("tileerror", () => {
  basemapFailures += 1;
  if (basemapFailures === 3) {
    el.classList.add("offline");
    L.control.attribution({ prefix: false, position: "topright" }).addTo(map).addAttribution(T.basemap_offline);
  }
});

// Sites: one vector tile layer; clusters up to maxGridZoom, single sites above. Tiles are
// asked with the page's tile token instead of the session (mapping/tile_tokens.py), renewed
// at a third of its life and at once when the page comes back after the computer slept.
const tileAuth = { Authorization: `Tile ${el.dataset.tileToken}` };
const tokenLife = Number(el.dataset.tileTokenSeconds) * 1000;
let tokenAt = Date.now();
async function renewTileToken() {
  const data = await getJSON(el.dataset.tileTokenUrl);
  tileAuth.Authorization = `Tile ${data.token}`;
  const expired = Date.now() - tokenAt >= tokenLife;
  tokenAt = Date.now();
  if (expired) sites.redraw();
}
setInterval(() => renewTileToken().catch(showError), tokenLife / 3);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && Date.now() - tokenAt >= tokenLife / 3) renewTileToken().catch(showError);
});
const sites = L.vectorGrid
  .protobuf(`${tileBase}{z}/{x}/{y}.pbf?${query()}`, {
    fetchOptions: { credentials: "omit", headers: tileAuth },
    pane: "sites",
    interactive: true,
    maxNativeZoom: 19,
    rendererFactory: L.canvas.tile,
    getFeatureId: (f) => f.properties.id,
    vectorTileLayerStyles: {
      sites: (p) => ({ icon: siteIcon(p.kind, p.state, p.due) }),
      clusters: (p) => ({ icon: clusterIcon(p) }),
    },
  })
  .addTo(map);
// For the browser tests, which place a click on a site's symbol as a person does.
window.planner = { map, sites };
sites.on("click", (e) => {
  const p = e.layer.properties;
  if (p.id) openPanel(p.id, e.latlng);
  else map.setView(e.latlng, Math.min(map.getZoom() + 3, maxGridZoom + 1));
});

// Child areas of the chosen area, coloured by protected share; a click drills down.
const areas = L.geoJSON(null, {
  pane: "areas",
  style: (f) => ({
    className: `area area-${f.properties.code}`,
    color: "#333",
    weight: 1,
    fillColor: shareColour(f.properties.protected),
    fillOpacity: 0.35,
  }),
}).addTo(map);
// The chosen area's own boundary, drawn as a line (a commune has no children to colour).
const outline = L.geoJSON(null, { pane: "areas", interactive: false, style: { color: "#0b3d91", weight: 3, dashArray: "8 5", fill: false } }).addTo(map);
let childAreas = [];

// A click that hits no site opens the child area under it. Leaflet ignores clicks on the
// tiles' canvases, so they are read from the map's element; a click on a site stops there.
el.addEventListener("click", (e) => {
  if (e.target.closest(".leaflet-control, .leaflet-marker-icon") || map.dragging.moved()) return;
  const at = map.mouseEventToLatLng(e);
  const hit = childAreas.find((f) => inGeometry([at.lng, at.lat], f.geometry));
  if (hit) loadArea(hit.properties.code, true);
});

async function loadArea(code, fit) {
  if (code) params.set("area", code);
  else params.delete("area");
  saveState();
  const data = await getJSON(`${el.dataset.areas}?${query()}`);
  childAreas = data.children.features;
  areas.clearLayers().addData(data.children);
  outline.clearLayers().addData(data.outline);
  areas.eachLayer((shape) => {
    const p = shape.feature.properties;
    const share = p.protected === null ? T.no_data : p.protected_text;
    // A text node: an area name from a boundary file is shown as written, never as HTML.
    shape.bindTooltip(document.createTextNode(`${p.name}: ${share}`), { sticky: true });
  });
  document.getElementById("area-name").textContent = data.area.name;
  const total = data.total.protected === null ? T.no_data
    : fmt(T.sites_counting, { n: data.total.counting_text, share: data.total.protected_text });
  document.getElementById("area-total").textContent = total;
  // The areas above the one shown, each a link: the heading names the area itself (its name
  // as the trail's last step said it twice).
  const crumbs = document.getElementById("crumbs");
  crumbs.replaceChildren();
  const trail = (data.national ? [{ code: "", name: T.country }, ...data.crumbs] : data.crumbs).slice(0, -1);
  for (const crumb of trail) {
    const link = Object.assign(document.createElement("a"), { href: "#", textContent: crumb.name });
    link.dataset.code = crumb.code;
    crumbs.append(link, " › ");
  }
  if (fit) {
    const b = data.area.bounds;
    if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    else if (childAreas.length) map.fitBounds(areas.getBounds());
  }
  refreshSites();
}

document.getElementById("crumbs").addEventListener("click", (e) => {
  const code = e.target.dataset?.code;
  if (code === undefined) return;
  e.preventDefault();
  loadArea(code, true);
});

function saveState() {
  history.replaceState(null, "", `${location.pathname}?${query()}`);
}

function refreshSites() {
  sites.setUrl(`${tileBase}{z}/{x}/{y}.pbf?${query()}`);
  refreshList();
  if (!document.getElementById("priority-pane").hidden) refreshPriority();
}

form.addEventListener("change", () => {
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = field.type === "checkbox" ? (field.checked ? "true" : "") : field.value;
    if (value) params.set(name, value);
    else params.delete(name);
  }
  saveState();
  refreshSites();
});

// The list of sites in view follows the map.
function siteItem(site, extra) {
  const li = document.createElement("li");
  li.dataset.id = site.id;
  const dot = Object.assign(document.createElement("span"), { className: `state-dot state-${site.state}` });
  const title = Object.assign(document.createElement("a"), { href: "#", textContent: `${site.code} · ${site.name}` });
  const meta = Object.assign(document.createElement("div"), { className: "muted", textContent: extra });
  li.append(dot, " ", title, meta);
  if (site.due) li.append(Object.assign(document.createElement("span"), { className: "badge due", textContent: T.due }));
  li.addEventListener("click", (e) => {
    e.preventDefault();
    map.setView([site.lat, site.lon], Math.max(map.getZoom(), maxGridZoom + 3));
    openPanel(site.id, L.latLng(site.lat, site.lon));
  });
  return li;
}

let listRequest = 0;
async function refreshList() {
  const ticket = ++listRequest;
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
    .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(5)).join(",");
  try {
    const data = await getJSON(`${el.dataset.sites}?${query({ bbox })}`);
    if (ticket !== listRequest) return;
    const note = document.getElementById("list-note");
    note.classList.remove("errors");
    const total = data.more ? fmt(T.more_than, { n: count(data.total) }) : count(data.total);
    document.getElementById("list-count").textContent = `(${total})`;
    note.textContent = data.total === 0 ? T.none_in_view : fmt(T.shown_of, { shown: count(data.sites.length), total });
    document.getElementById("site-list").replaceChildren(
      ...data.sites.map((s) => siteItem(s, `${T.states[s.state]} · ${s.kind} · ${s.area}`)),
    );
  } catch (error) {
    showError(error);
  }
}
let moveTimer;
map.on("moveend", () => {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(refreshList, 250);
});

// The priority list, with its sites and their nearest school drawn on the map.
const priorityMarks = L.layerGroup([], { pane: "marks" });
async function refreshPriority() {
  document.getElementById("priority-download").href = `${el.dataset.priority.replace(/\.json$/, ".csv")}?${query()}`;
  try {
    const data = await getJSON(`${el.dataset.priority}?${query()}`);
    document.getElementById("priority-count").textContent = fmt(T.candidates, { n: count(data.total) });
    priorityMarks.clearLayers();
    const items = data.sites.map((s) => {
      const reasons = [`${T.score} ${count(s.score)}`, s.kind];
      if (s.deep_water) reasons.push(T.deep_water);
      if (s.place_name && s.place_distance_m <= 2000) reasons.push(fmt(T.near, { m: count(s.place_distance_m), place: s.place_name }));
      const mark = L.marker([s.lat, s.lon], {
        pane: "marks",
        icon: L.divIcon({ className: "rank-mark", html: String(s.rank), iconSize: [22, 22] }),
        title: `${s.rank}. ${s.code} · ${s.name}`,
      }).on("click", () => openPanel(s.id, L.latLng(s.lat, s.lon)));
      priorityMarks.addLayer(mark);
      return siteItem(s, `${count(s.rank)}. ${reasons.join(" · ")} · ${s.area_name}`);
    });
    document.getElementById("priority-list").replaceChildren(...items);
  } catch (error) {
    showError(error);
  }
}

function showTab(name) {
  for (const tab of ["list", "priority"]) {
    document.getElementById(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    document.getElementById(`${tab}-pane`).hidden = tab !== name;
  }
  document.getElementById("panel").hidden = true;
  if (name === "priority") {
    priorityMarks.addTo(map);
    refreshPriority();
  } else priorityMarks.remove();
}
document.getElementById("tab-list").addEventListener("click", () => showTab("list"));
document.getElementById("tab-priority").addEventListener("click", () => showTab("priority"));

// A site's panel: details, inspection history with photos, a link to edit.
const selected = L.circleMarker([0, 0], { pane: "marks", radius: 14, color: "#0b3d91", weight: 3, fill: false });
let paneBeforePanel = "list";
async function openPanel(id, latlng) {
  const panel = document.getElementById("panel");
  const response = await fetch(el.dataset.panel.replace("00000000-0000-0000-0000-000000000000", id), { credentials: "same-origin" });
  if (!response.ok) return;
  panel.innerHTML = await response.text();
  if (!document.getElementById("list-pane").hidden) paneBeforePanel = "list";
  else if (!document.getElementById("priority-pane").hidden) paneBeforePanel = "priority";
  document.getElementById("list-pane").hidden = true;
  document.getElementById("priority-pane").hidden = true;
  panel.hidden = false;
  if (latlng) selected.setLatLng(latlng).addTo(map);
}
document.getElementById("panel").addEventListener("click", (e) => {
  if (e.target.dataset.action !== "close-panel") return;
  selected.remove();
  showTab(paneBeforePanel);
});
// Closing or reopening a site from its panel: the form posts to the API, then the panel
// and the map show the site as it is now, or the form shows the server's reason.
document.getElementById("panel").addEventListener("submit", async (e) => {
  const form = e.target.closest("form[data-panel-form]");
  if (!form) return;
  e.preventDefault();
  const response = await fetch(form.action, {
    method: "POST", credentials: "same-origin", headers: { Accept: "application/json" }, body: new FormData(form),
  });
  if (response.ok) {
    await openPanel(form.dataset.site);
    refreshSites();
    return;
  }
  const body = await response.json().catch(() => ({}));
  form.querySelector(".errors").textContent =
    [body.detail, ...Object.values(body.errors || {}).flat()].filter(Boolean).join(" ") || `HTTP ${response.status}`;
});

// Legend: site states, kinds, and the area colours.
const legend = L.control({ position: "bottomright" });
legend.onAdd = () => {
  const div = L.DomUtil.create("div", "legend-box");
  const states = Object.entries(T.states)
    .map(([key, label]) => `<li><span class="state-dot" style="background:${STATE_COLOURS[key]}"></span> ${label}</li>`).join("");
  const kinds = Object.keys(KIND_SHAPES).map((kind) => `<li>${kindSwatch(kind)} ${T.kinds[kind]}</li>`).join("");
  const shares = shareLegend(T.no_data)
    .map(({ colour, label }) => `<li><span class="swatch" style="background:${colour}"></span> ${label}</li>`).join("");
  div.innerHTML = `<details open><summary>${T.legend_states}</summary><ul>${states}</ul></details>
    <details><summary>${T.legend_kinds}</summary><ul>${kinds}</ul></details>
    <details><summary>${T.legend_areas}</summary><ul>${shares}</ul></details>`;
  L.DomEvent.disableClickPropagation(div);
  return div;
};
legend.addTo(map);

loadArea(params.get("area") || "", true).catch(showError);
