// A site's sheet, opened by a tap on its dot: its state, history, closure proposal and
// actions; or, where several dots lie under the finger, the choice between them.
import { config } from "./config.js";
import { $, button } from "./dom.js";
import { begunNote } from "./drafts.js";
import { day, fmt, gettext, number } from "./format.js";
import { startInspection } from "./inspect.js";
import { proposalLine, proposeClosureButton } from "./proposals.js";
import { renderHistory, siteHistory } from "./site-history.js";
import { named, STATE_LABEL, stateOf } from "./sites.js";
import { state } from "./state.js";

// The site whose sheet is open (null while the choice is): a sheet still loading the
// site's name knows when another site was tapped meanwhile.
let sheetFor = null;

export function openChooser(features) {
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

export async function openSheet(feature) {
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
