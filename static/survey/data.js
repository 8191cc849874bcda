// What the app shows that comes from the server (who is signed in, the areas, the site list
// in its two parts, the history of due sites): fetched, kept on the tablet, drawn.
import { apiGet, apiResponse } from "./api.js";
import { config } from "./config.js";
import * as db from "./db.js";
import { $ } from "./dom.js";
import { renderDue } from "./due-list.js";
import { distanceMetres } from "./geo.js";
import { areaLayer, map, renderSites } from "./map.js";
import * as outbox from "./outbox.js";
import { refreshProposals, renderProposals } from "./proposals.js";
import { regAreaLayer } from "./register.js";
import { authLost, renderWho } from "./signin.js";
import { siteHistory } from "./site-history.js";
import * as sitelist from "./sitelist.js";
import { state } from "./state.js";

// Site data are fetched again after a send, or when older than this.
export const DATA_MAX_AGE_MS = 15 * 60_000;

// History of the due sites is fetched ahead, while online, for this many sites.
const HISTORY_AHEAD = 50;

// The areas' outline on both maps; without a GPS position yet, the map is framed on them.
function renderAreas() {
  for (const layer of [areaLayer, regAreaLayer]) {
    layer.clearLayers();
    layer.addData(state.areas);
  }
  if (!state.position && state.areas.features.length) map.fitBounds(areaLayer.getBounds());
}

export async function loadCached() {
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
// `asked`: when it was asked for. A record sent after that may be missing from it, so the
// sites show such records on top until a later list comes (sites.js).
async function fetchSiteList(passive) {
  const asked = Date.now();
  const response = await apiResponse(config.urls.sites, { passive });
  const version = (response.headers.get("ETag") || "").replace(/^W\//, "").replaceAll('"', "");
  const first = await response.text();
  return { sites: sitelist.firstPart(JSON.parse(first)), version, first, asked };
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
// `passive`: the app refreshes by itself (a round of its timer), as do the requests that follow.
export async function refreshData({ passive = false } = {}) {
  // In parallel: on a slow network each request costs its round trips.
  const [me, list] = await Promise.all([apiGet(config.urls.me, { passive }), fetchSiteList(passive)]);
  state.me = me;
  await db.put("cache", { key: "me", value: me, at: Date.now() });
  renderWho();
  state.namingNow = true;
  showSites(list.sites);
  state.naming = afterPaint().then(() => Promise.all([refreshAreas(passive), nameSites(list, passive), refreshProposals({ passive })])).finally(() => {
    state.namingNow = false;
    markSites();
  });
}

async function refreshAreas(passive) {
  try {
    state.areas = await apiGet(config.urls.areas, { passive });
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

async function nameSites({ sites, version, first, asked }, passive, tries = 2) {
  try {
    const response = await apiResponse(`${config.urls.sitesRest}?version=${encodeURIComponent(version)}`, { answered: [412], passive });
    if (response.status === 412) {
      // The list changed in between: both parts again.
      if (!tries) return;
      const list = await fetchSiteList(passive);
      if (state.sites === sites) showSites(list.sites);
      return nameSites(list, passive, tries - 1);
    }
    const rest = await response.text();
    sitelist.complete(sites, JSON.parse(rest));
    if (state.sites !== sites) return; // a newer list came meanwhile
    markSites();
    state.dataAt = asked;
    await db.put("cache", { key: "sites", value: { first, rest }, at: state.dataAt });
    if (!$("#view-due").hidden) renderDue();
    historyAhead(passive);
  } catch (error) {
    if (error instanceof outbox.SignedOut) authLost();
  }
}

// The history of the nearest due sites, fetched while there is a network, for the field.
async function historyAhead(passive) {
  const here = state.position?.coords;
  const due = state.sites.features
    .filter((f) => f.properties.due && f.properties.last_checked_at)
    .map((f) => ({ f, d: here ? distanceMetres(here, f.geometry.coordinates) : 0 }))
    .sort((a, b) => a.d - b.d)
    .slice(0, HISTORY_AHEAD);
  for (const { f } of due) {
    if (!navigator.onLine || state.authLost) return;
    if (await db.get("cache", `history:${f.properties.id}`)) continue;
    await siteHistory(f.properties.id, { passive });
  }
}
