// The due list, and the search through all the worker's sites that takes its place.
import { config } from "./config.js";
import { $, button } from "./dom.js";
import { begunNote } from "./drafts.js";
import { day, distanceText, fmt, gettext, number } from "./format.js";
import { distanceMetres } from "./geo.js";
import { startInspection } from "./inspect.js";
import { map } from "./map.js";
import { openSheet } from "./sheet.js";
import { allSites, STATE_LABEL, stateOf } from "./sites.js";
import { state } from "./state.js";
import { show } from "./views.js";

// The due list shows the nearest ones; more than this would only slow the tablet down.
const DUE_SHOWN = 200;

// Text as a search compares it: no case, no tone marks, đ as d ("Giếng" is found by "gieng").
const plain = (text) =>
  String(text ?? "")
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .replace(/đ/gi, "d")
    .toLowerCase();

// The due list, or, while the worker searches, every site of theirs whose name or code
// holds each word typed (the spreadsheet's Ctrl-F), nearest first.
export function renderDue() {
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
