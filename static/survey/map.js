// The map of the worker's areas: the basemap, the sites' dots (grouped when there are many),
// the "My location" button and the legend.
import { basemapLayer } from "../common/basemap.js";
import { DUE_RING, STATE_COLOURS } from "../common/palette.js";
import { AREA_STYLE } from "./areas.js";
import { $ } from "./dom.js";
import { fmt, gettext, number } from "./format.js";
import { openChooser, openSheet } from "./sheet.js";
import { allSites, STATE_LABEL, stateOf } from "./sites.js";
import { state } from "./state.js";

export const map = L.map("map", { zoomControl: true }).setView([16, 106], 6);
// Offline, the service worker answers from the tiles stored by "offline map of my communes".
basemapLayer().addTo(map);
// The worker's own position is drawn above the sites, whatever their number.
map.createPane("me").style.zIndex = 640;
export const areaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(map);
// Dots of 24 px drawn on one canvas (thousands of sites in a busy commune), each taking
// taps 10 px around it: a touch target of 44 px.
const siteRenderer = L.canvas({ tolerance: 10 });
export const siteLayer = L.layerGroup().addTo(map);
export const meRenderer = L.svg({ pane: "me" });

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

// With more sites than GROUP_ABOVE only those in view are drawn, and below GROUP_UNTIL_ZOOM
// those within GROUP_CELL_PX of each other as one numbered group that a tap zooms into: a
// busy commune's 10,000 dots were slow to draw (bench/NOTES.md) and overlapped into one blot.
// A group takes the colour of its least protected site and the due ring if one is due;
// records not sent yet always keep their own dot.
const GROUP_ABOVE = 1500;
const GROUP_UNTIL_ZOOM = 17;
const GROUP_CELL_PX = 48;
// The states of open sites, least protected first, as the registry lists them (SiteState).
const STATE_ORDER = Object.keys(STATE_LABEL).filter((s) => s !== "closed");
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

export function renderSites() {
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
  const states = STATE_ORDER.map(
    (s) => `<li><span class="dot" style="background:${STATE_COLOURS[s]}"></span>${STATE_LABEL[s]}</li>`,
  ).join("");
  box.innerHTML = `<summary>${gettext("Legend")}</summary><ul>${states}
    <li><span class="dot ring"></span>${gettext("Due for inspection")}</li>
    <li><span class="dot queued"></span>${gettext("Not sent yet")}</li>
    <li><span class="dot group">3</span>${gettext("Several sites: tap to zoom in")}</li>
    <li><span class="dot me"></span>${gettext("You are here")}</li></ul>`;
  L.DomEvent.disableClickPropagation(box);
  return box;
};
legend.addTo(map);
