// The forms kept while being filled (drafts), each until it is saved or discarded, and the
// list of them in the outbox view.
import * as db from "./db.js";
import { $, $$, button } from "./dom.js";
import { clockTime, day, fmt, gettext } from "./format.js";
import { addPhotos, choose, entered, formValues, give, given, picked, renderThumbs, resetForm, setValues } from "./forms.js";
import { inspectForm, startInspection } from "./inspect.js";
import { fixRecord } from "./outbox-view.js";
import * as outbox from "./outbox.js";
import { openRegistration, placePin, registerForm } from "./register.js";
import { allSites } from "./sites.js";
import { person, state } from "./state.js";
import { show } from "./views.js";

// Every form begun (values, choices, a pin put by hand, photos) is kept on the tablet as
// it changes, for the person filling it, until it is saved or cancelled: the worker may
// leave a registration to inspect another site, leave one inspection for another, or
// Android may discard the page while the camera app is open. Each form has its draft,
// one per "slot": the registration of a new site, a site's inspection, a refused record
// being fixed. "Register a site", a site's "Inspect" and "Fix and send again" take up the
// draft of their slot where it was; the others wait, listed in the outbox view, and the
// form on screen when the page went away opens again on the next start.

// What each form holds now: { owner, form, editing (the record's id), record, site, key }.
export const live = new Map();
const draftTimers = new Map();
export const viewOf = (form) => form.closest(".view");

// Whether two slots are one: the same refused record, the registration, or the same site
// (a site from the list's first part has its code before its id).
function sameSlot(a, b) {
  if (a.form !== b.form || (a.editing || null) !== (b.editing || null)) return false;
  if (a.editing || a.form === registerForm.id) return true;
  const x = a.site.properties;
  const y = b.site.properties;
  return Boolean((x.id && x.id === y.id) || (x.code && x.code === y.code));
}

export function myDrafts() {
  const who = person()?.username;
  return state.drafts.filter((d) => d.owner === who);
}

const draftFor = (slot) => myDrafts().find((d) => sameSlot(d, slot));

// Said beside a site whose inspection was begun and not saved ("Inspect" takes it up).
export const begunNote = (feature) => (draftFor({ form: inspectForm.id, site: feature }) ? ` · ${gettext("inspection begun, not saved")}` : "");

// Whether `form` holds `slot` now (then it is shown as it is, not opened again).
export const holds = (form, slot) => live.has(form) && sameSlot(live.get(form), slot);

// `form` begins to hold `slot`, after keeping what it held before under its own.
export function begin(form, slot) {
  if (live.has(form)) keepDraft(form, false);
  live.set(form, { owner: person()?.username, form: form.id, editing: null, record: null, site: null, key: null, ...slot });
}

// Typing is kept after a pause; a choice, a photo or the pin at once.
export function draftChanged(form, pause = 0) {
  if (!live.has(form)) return;
  clearTimeout(draftTimers.get(form));
  draftTimers.set(form, setTimeout(() => keepDraft(form), pause));
}

// The app may be open in two tabs (Chrome keeps the one left behind), each with the same
// form taken up from its draft. Each write names the version it follows (`rev`): a tab
// never writes over, nor removes, a version another tab has kept since. Its own copy is
// kept beside that one instead, and the worker finds both listed.
function storeDraft(slot, draft) {
  const follows = slot.rev;
  draft.rev = slot.rev = crypto.randomUUID();
  state.drafts = [...state.drafts.filter((d) => d.key !== draft.key), draft];
  renderDrafts();
  return db.update("drafts", draft.key, (stored) => {
    if (!stored || stored.rev === follows) return draft;
    if (slot.key === draft.key) slot.key = crypto.randomUUID();
    const own = { ...draft, key: slot.key };
    state.drafts = [...state.drafts.filter((d) => d.key !== draft.key && d.key !== own.key), stored, own];
    renderDrafts();
    return own;
  });
}

function removeDraft(key, rev) {
  state.drafts = state.drafts.filter((d) => d.key !== key);
  renderDrafts();
  return db.update("drafts", key, (stored) => (stored?.rev === rev ? null : undefined));
}

// Reads the form at once (it may be emptied for another slot right after), then stores it.
export function keepDraft(form, onScreen = !viewOf(form).hidden) {
  clearTimeout(draftTimers.get(form));
  const slot = live.get(form);
  if (!slot?.owner) return Promise.resolve();
  if (!entered(form)) {
    const key = slot.key;
    slot.key = null;
    slot.kept = undefined;
    return key ? removeDraft(key, slot.rev) : Promise.resolve();
  }
  slot.key ??= crypto.randomUUID();
  const draft = {
    key: slot.key,
    owner: slot.owner,
    form: form.id,
    editing: slot.editing,
    values: formValues(form),
    given: [...given.get(form)],
    photos: [...picked.get(form)],
    onScreen,
    at: Date.now(),
  };
  // The pin stays where it was when the form was left, from the GPS or by hand: taken up
  // later elsewhere, the form must not move its site to where the tablet is then.
  if (form === registerForm) Object.assign(draft, { pin: state.pin, pinFromGps: state.pinFromGps });
  else draft.site = { type: "Feature", geometry: slot.site.geometry, properties: slot.site.properties };
  // Written only when it holds something new: a tab left behind writes nothing as it is
  // hidden or closed, only what the worker gives it.
  const content = JSON.stringify([draft.values, draft.given, draft.photos.map((p) => p.id), draft.pin, onScreen]);
  if (content === slot.kept) return Promise.resolve();
  slot.kept = content;
  return storeDraft(slot, draft);
}

// Saved or cancelled: the form's draft goes.
export function closeDraft(form) {
  clearTimeout(draftTimers.get(form));
  const slot = live.get(form);
  live.delete(form);
  if (slot?.key) removeDraft(slot.key, slot.rev);
}

// A form is set up once: its choices and photos, kept as its draft as they change, and
// Cancel, which asks before discarding what was entered.
export function setupForm(form) {
  picked.set(form, []);
  given.set(form, new Set());
  $$(".choices", form).forEach((group) =>
    $$("button", group).forEach((choice) =>
      choice.addEventListener("click", () => {
        choose(form, group.dataset.name, choice.dataset.value);
        give(form, [group.dataset.name]);
      }),
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
  form.addEventListener("input", (event) => {
    if (event.target.name && event.target.type !== "file") give(form, [event.target.name]);
    draftChanged(form, 300);
  });
  form.addEventListener("click", () => draftChanged(form));
  $(".cancel", form).addEventListener("click", () => {
    if (entered(form) && !confirm(gettext("Discard this form? What you entered, photos included, will be lost."))) return;
    const fixing = live.get(form)?.editing;
    closeDraft(form);
    resetForm(form);
    show(fixing ? "outbox" : "map");
  });
}

// The camera app coming up hides the page: kept at once, not after the pause.
document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && live.forEach((_, form) => keepDraft(form)));
window.addEventListener("pagehide", () => live.forEach((_, form) => keepDraft(form)));

// The form just opened for its slot takes up that slot's draft, if there is one, and says so.
export function takeUpDraft(form) {
  const slot = live.get(form);
  const draft = draftFor(slot);
  if (!draft) return;
  // The answers the worker gave, and only those: the rest the form chooses as it does when
  // it opens (the site's last state may have changed since). A draft from an app that did
  // not tell them apart is all answers.
  const values = { ...draft.values.fields, ...draft.values.choices };
  const answers = draft.given ?? Object.keys(values);
  setValues(form, Object.fromEntries(answers.filter((name) => name in values).map((name) => [name, values[name]])));
  give(form, answers);
  picked.set(form, [...draft.photos]);
  renderThumbs(form);
  if (form === registerForm && draft.pin) placePin(draft.pin, false, { kept: draft.pinFromGps === true });
  // Only now: a draft that could not be opened whole is never overwritten by what did open.
  slot.key = draft.key;
  slot.rev = draft.rev;
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
export function dropOrphanDrafts() {
  const gone = (id) => id && !state.records.some((r) => r.id === id);
  for (const [form, slot] of live) {
    if (!gone(slot.editing)) continue;
    closeDraft(form);
    resetForm(form);
  }
  for (const draft of state.drafts) if (gone(draft.editing)) removeDraft(draft.key, draft.rev);
}

// The form that was on screen when the page went away opens again.
export async function restoreDraft() {
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
export function renderDrafts() {
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
        } else removeDraft(draft.key, draft.rev);
      }, "discard"),
    );
    list.append(item);
  }
}

// The record being fixed, to be sent again under its ids; after a conflict (another
// record is stored under them) it goes as a new record instead.
export async function takeEditing(form) {
  const slot = live.get(form);
  const editing = slot?.record;
  if (editing?.state !== "conflict") return editing;
  // The form no longer fixes the old record, which leaves the outbox: what it holds is new.
  slot.editing = null;
  slot.record = null;
  await outbox.discard(editing.id);
  return null;
}
