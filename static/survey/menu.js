// The header's menu: pairing, signing out, and the offline map of the worker's communes.
import { basemap } from "../common/basemap.js";
import { config } from "./config.js";
import * as db from "./db.js";
import { $, $$ } from "./dom.js";
import { myDrafts } from "./drafts.js";
import { fmt, gettext, number } from "./format.js";
import * as outbox from "./outbox.js";
import * as pairing from "./pairing.js";
import { PHOTOS } from "./site-history.js";
import { state } from "./state.js";
import { show } from "./views.js";

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
