// Inspecting a site: its form, opened with the site's last known state, with the last
// inspection and "No change", the questions asked before recording, and queueing it.
import { config } from "./config.js";
import { $, button } from "./dom.js";
import { begin, closeDraft, holds, keepDraft, live, setupForm, takeEditing, takeUpDraft } from "./drafts.js";
import { day, distanceText, fmt, gettext, number } from "./format.js";
import { answersReplaced, answerText, choose, fieldProblems, flatValues, give, given, inspectionPayload, markOpened, picked, presetChoice, renderThumbs, requireStates, resetForm, setValues } from "./forms.js";
import { distanceMetres } from "./geo.js";
import * as outbox from "./outbox.js";
import { registerForm } from "./register.js";
import { nobodySignedIn } from "./signin.js";
import { photoThumbs, siteHistory } from "./site-history.js";
import { describeStates, named, STATE_LABEL, stateOf } from "./sites.js";
import { state } from "./state.js";
import { sync } from "./sync.js";
import { show } from "./views.js";

export const inspectForm = $("#inspect-form");
setupForm(inspectForm);

function markLast(name, value) {
  const mark = Object.assign(document.createElement("small"), { className: "was", textContent: gettext("last time") });
  $(`.choices[data-name=${name}] button[data-value="${value}"]`, inspectForm)?.append(mark);
}

// The site's last known sign and barrier are chosen as the form opens, each marked "last
// time", so the worker changes what differs instead of entering again what the registry
// knows (the water follows with the site's history, waterSeen). A site never inspected
// has no state to go by, and a refused record being fixed opens with its own answers:
// nothing is chosen.
function preselect(feature, fixing) {
  const p = feature.properties;
  const note = $(".preset-note", inspectForm);
  note.hidden = fixing || !(p.last_checked_at && p.signage && p.barrier);
  if (note.hidden) return;
  for (const name of ["signage", "barrier"]) {
    choose(inspectForm, name, p[name]);
    markLast(name, p[name]);
  }
  note.textContent = fmt(gettext("Chosen as at the last inspection (%(day)s), marked “last time”: tap what you see where it differs."), {
    day: day(p.last_checked_at),
  });
}

// The water seen at the last inspection, once the site's history is here: chosen like
// the sign and barrier, unless the worker has answered it (here, or in the draft taken up).
function waterSeen(value) {
  if ($(".preset-note", inspectForm).hidden || given.get(inspectForm).has("water_present")) return;
  presetChoice(inspectForm, "water_present", value);
  markLast("water_present", value);
}

async function renderLastState(feature) {
  const p = feature.properties;
  const box = $("#inspect-last");
  box.replaceChildren();
  box.className = `last-state state-${stateOf(p)}`;
  delete box.dataset.water; // the site inspected before's, until this one's history is here
  const text = document.createElement("p");
  if (!p.last_checked_at) {
    text.textContent = gettext("This site has never been inspected.");
    box.append(text);
    return;
  }
  text.textContent = `${gettext("Last inspection")}: ${day(p.last_checked_at)} · ${STATE_LABEL[stateOf(p)]} · ${describeStates(p)}`;
  const same = button(gettext("No change: record the same state"), () => recordNoChange(feature), "primary no-change");
  same.id = "no-change";
  box.append(text, same);
  const past = p.new || p.queued || !(await named(feature)) ? null : await siteHistory(p.id);
  const latest = past?.[0];
  if (latest && state.inspecting === feature) {
    box.dataset.water = String(latest.water_present);
    waterSeen(box.dataset.water);
    box.append(photoThumbs(latest.photos.slice(0, 1)));
  }
}

// A site's inspection form, with the inspection of that site begun and not saved, where
// it was; or empty for a refused inspection (`record`) to be fixed.
export function startInspection(feature, record = null) {
  if (nobodySignedIn()) return;
  $("#site-sheet").hidden = true;
  const slot = { form: inspectForm.id, editing: record?.id ?? null, record, site: feature };
  if (holds(inspectForm, slot)) return show("inspect");
  begin(inspectForm, slot);
  state.inspecting = feature;
  resetForm(inspectForm);
  preselect(feature, Boolean(record));
  const p = feature.properties;
  $("#inspect-title").textContent = `${p.code || gettext("new")} · ${p.name}`;
  show("inspect");
  markOpened(inspectForm);
  if (!record) takeUpDraft(inspectForm);
  renderLastState(feature);
}

// A registration that turned out to be of a site already registered: what the worker saw
// and photographed there (the answers given in the fields both forms have, the photos)
// goes to that site's inspection, the one begun and not saved if there is one. Where that
// holds other answers, the worker chooses which stay, or goes back to the registration.
export async function openExisting(feature) {
  const seen = flatValues(registerForm);
  const answers = [...given.get(registerForm)].filter((name) => name in seen && name in flatValues(inspectForm));
  const photos = picked.get(registerForm);
  startInspection(feature);
  if (!live.has(inspectForm)) return; // nobody signed in: the registration stays as it is
  let carried = answers;
  const replaced = answersReplaced(inspectForm, Object.fromEntries(answers.map((name) => [name, seen[name]])));
  if (replaced.length) {
    const now = flatValues(inspectForm);
    const choice = await ask(describe($("#existing-dialog"), replaced, now, seen));
    if (!["keep", "go"].includes(choice)) return show("register");
    if (choice === "keep") carried = answers.filter((name) => !replaced.includes(name));
  }
  setValues(inspectForm, Object.fromEntries(carried.map((name) => [name, seen[name]])));
  give(inspectForm, carried);
  picked.set(inspectForm, [...picked.get(inspectForm), ...photos]);
  renderThumbs(inspectForm);
  keepDraft(inspectForm);
  closeDraft(registerForm);
  resetForm(registerForm);
}

async function queueInspection(payload, photos) {
  const site = state.inspecting.properties;
  const editing = live.get(inspectForm)?.record;
  if (editing) await outbox.resend(editing.id, { payload, photos: [...editing.photos.filter((p) => p.sent), ...photos] });
  else await outbox.add({ id: payload.id, type: "inspection", label: site.name, payload, photos });
  const back = live.get(inspectForm)?.editing ? "outbox" : "due";
  closeDraft(inspectForm);
  resetForm(inspectForm);
  show(back);
  sync();
}

// The inspected site's id: a site from the due list may still wait for the site list's
// second part.
async function inspectedSiteId() {
  if (await named(state.inspecting)) return state.inspecting.properties.id;
  $(".form-errors", inspectForm).textContent = gettext(
    "The site list has not fully reached the tablet yet: connect to the network and save again.",
  );
  return null;
}

// A question, in a dialog whose buttons close it with their value: the value of the one
// tapped ("" when the dialog was closed otherwise, by the tablet's Back button).
function ask(dialog) {
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
}

// A dialog asking before the answers `names` are replaced: the form's now, and the others.
function describe(dialog, names, now, others) {
  const line = (values) => names.map((name) => answerText(inspectForm, name, values[name])).join(" · ");
  $(".yours .answers", dialog).textContent = line(now);
  $(".last .answers", dialog).textContent = line(others);
  return dialog;
}

// An inspection is evidence of what was seen at the site: the worker whose tablet's GPS is
// farther from it than config.inspectFar (hazards/survey.py) is asked first; the GPS may be
// wrong, so the worker may save all the same.
async function atTheSite() {
  const site = state.inspecting.geometry?.coordinates;
  if (!state.position || !site) return true;
  const distance = distanceMetres(state.position.coords, site);
  if (distance <= config.inspectFar) return true;
  $("#far-text").textContent = fmt(
    gettext("The tablet's GPS is %(distance)s from this site (accurate to ± %(acc)s m). Save the inspection only if you are at the site and the GPS is wrong."),
    { distance: distanceText(distance), acc: number(state.position.accuracy) },
  );
  return (await ask($("#far-dialog"))) === "go";
}

// One tap: the same sign, barrier and water as last time (the water when the site's
// history is on the tablet), seen today; the rest of the form as it is. Any answer the
// worker gave that this would change (an inspection begun, or taken up from its draft) is
// replaced only when the worker says so.
async function recordNoChange(feature) {
  const p = feature.properties;
  const problems = fieldProblems(inspectForm);
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  const water = $("#inspect-last").dataset.water;
  const last = { signage: p.signage, barrier: p.barrier, ...(water ? { water_present: water } : {}) };
  const replaced = answersReplaced(inspectForm, last);
  if (replaced.length && (await ask(describe($("#no-change-dialog"), replaced, flatValues(inspectForm), last))) !== "go") return;
  if (!(await atTheSite())) return;
  setValues(inspectForm, last);
  await queueInspection(inspectionPayload(inspectForm, { site }), picked.get(inspectForm));
}

inspectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problems = [...requireStates(inspectForm), ...fieldProblems(inspectForm)];
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  if (!(await atTheSite())) return;
  const editing = await takeEditing(inspectForm);
  const extra = editing ? { id: editing.id, site } : { site };
  await queueInspection(inspectionPayload(inspectForm, extra), picked.get(inspectForm));
});
