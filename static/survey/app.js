// The survey app: map of the worker's area, sites due for inspection, registering and
// inspecting sites, all working offline through the outbox. This module starts it: the
// modules it imports each hold one part of the app (README, "static/survey/"); here they
// are wired together and the app is started with what the tablet kept and the server sends.
import { paletteToCss } from "../common/palette.js";
import { apiGet } from "./api.js";
import { config } from "./config.js";
import { DATA_MAX_AGE_MS, loadCached, refreshData } from "./data.js";
import * as db from "./db.js";
import { $ } from "./dom.js";
import { dropOrphanDrafts, restoreDraft } from "./drafts.js";
import { renderDue } from "./due-list.js";
import { map, renderSites, siteLayer } from "./map.js";
import "./menu.js";
import * as outbox from "./outbox.js";
import { renderOutbox } from "./outbox-view.js";
import * as pairing from "./pairing.js";
import "./position.js";
import { refreshProposals } from "./proposals.js";
import { regMap } from "./register.js";
import { authLost, pairForm } from "./signin.js";
import { person, state } from "./state.js";
import { renderNetwork, sync } from "./sync.js";
import { show } from "./views.js";

paletteToCss();

outbox.configure(config, { auth: () => state.device?.token, owner: person });

// Whatever shows the outbox's records follows it.
outbox.onChange((records) => {
  state.records = records;
  dropOrphanDrafts();
  renderOutbox(records);
  renderSites();
  if (!$("#view-due").hidden) renderDue();
});

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
