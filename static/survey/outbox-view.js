// The outbox view: the records on the tablet with their state, what to do with a refused
// one, and the progress of the photos being sent.
import { $, button } from "./dom.js";
import { holds, takeUpDraft } from "./drafts.js";
import { clockTime, day, fmt, gettext, LANG, number } from "./format.js";
import { fillForm, give, markOpened, setValues } from "./forms.js";
import { inspectForm, startInspection } from "./inspect.js";
import { formatDecimal } from "./numbers.js";
import * as outbox from "./outbox.js";
import { openRegister, placePin, registerForm } from "./register.js";
import { allSites } from "./sites.js";
import { state } from "./state.js";
import { sendNow } from "./sync.js";
import { show } from "./views.js";

const OUTBOX_STATE = {
  pending: gettext("Waiting to send"),
  sending: gettext("Sending"),
  sent: gettext("Sent"),
  refused: gettext("Refused"),
  conflict: gettext("Conflict"),
};

// "Fix and send again": the record in its form, with the fix begun and not saved where it was.
export function fixRecord(record) {
  const form = record.type === "site" ? registerForm : inspectForm;
  if (holds(form, { form: form.id, editing: record.id })) return show(form === registerForm ? "register" : "inspect");
  if (record.type === "site") {
    openRegister(record);
    const p = record.payload;
    const values = { kind: p.kind, name: p.name, deep_water: p.deep_water, depth_m: formatDecimal(p.depth_m, LANG) };
    setValues(registerForm, values);
    give(registerForm, Object.keys(values));
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

export function renderOutbox(records) {
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
      text.append(retry, button(gettext("Send now"), () => sendNow(), "send-now"));
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
