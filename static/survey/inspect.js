// Inspecting a site: its form, with the last inspection and "No change", and queueing it.
import { $, button } from "./dom.js";
import { begin, closeDraft, holds, keepDraft, live, setupForm, takeEditing, takeUpDraft } from "./drafts.js";
import { day, gettext } from "./format.js";
import { choose, fieldProblems, formValues, inspectionPayload, markOpened, picked, renderThumbs, requireStates, resetForm } from "./forms.js";
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

async function renderLastState(feature) {
  const p = feature.properties;
  const box = $("#inspect-last");
  box.replaceChildren();
  box.className = `last-state state-${stateOf(p)}`;
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
  const p = feature.properties;
  $("#inspect-title").textContent = `${p.code || gettext("new")} · ${p.name}`;
  show("inspect");
  markOpened(inspectForm);
  if (!record) takeUpDraft(inspectForm);
  renderLastState(feature);
}

// A registration that turned out to be of a site already registered: what the worker saw
// and photographed there (sign, barrier, water, notes, photos) goes to that site's inspection.
export function openExisting(feature) {
  const seen = formValues(registerForm);
  const photos = picked.get(registerForm);
  startInspection(feature);
  if (!live.has(inspectForm)) return; // nobody signed in: the registration stays as it is
  for (const name of ["signage", "barrier", "water_present"]) if (seen.choices[name]) choose(inspectForm, name, seen.choices[name]);
  for (const name of ["water_depth_m", "notes"]) if (seen.fields[name]) $(`[name=${name}]`, inspectForm).value = seen.fields[name];
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

// One tap: the same sign and barrier as last time, seen today.
async function recordNoChange(feature) {
  const p = feature.properties;
  const problems = fieldProblems(inspectForm);
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  choose(inspectForm, "signage", p.signage);
  choose(inspectForm, "barrier", p.barrier);
  const water = $("#inspect-last").dataset.water;
  if (water) choose(inspectForm, "water_present", water);
  await queueInspection(inspectionPayload(inspectForm, { site }), picked.get(inspectForm));
}

inspectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problems = [...requireStates(inspectForm), ...fieldProblems(inspectForm)];
  $(".form-errors", inspectForm).textContent = problems.join(" ");
  if (problems.length) return;
  const site = await inspectedSiteId();
  if (!site) return;
  const editing = await takeEditing(inspectForm);
  const extra = editing ? { id: editing.id, site } : { site };
  await queueInspection(inspectionPayload(inspectForm, extra), picked.get(inspectForm));
});
