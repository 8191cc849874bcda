// Registering a new site: its form, the map where its pin is put, and the checks of the
// pin's place and of a site of the same kind nearby.
import { basemapLayer } from "../common/basemap.js";
import { AREA_STYLE, areaAt, insideMyAreas } from "./areas.js";
import { config } from "./config.js";
import { $ } from "./dom.js";
import { begin, closeDraft, draftChanged, holds, live, setupForm, takeEditing, takeUpDraft } from "./drafts.js";
import { fmt, gettext, number } from "./format.js";
import { chosen, fieldProblems, inspectionPayload, markOpened, numberValue, picked, requireStates, resetForm } from "./forms.js";
import { distanceMetres } from "./geo.js";
import { openExisting } from "./inspect.js";
import * as outbox from "./outbox.js";
import { accuracyText } from "./position.js";
import { nobodySignedIn } from "./signin.js";
import { allSites } from "./sites.js";
import { state } from "./state.js";
import { sync } from "./sync.js";
import { show } from "./views.js";

export const registerForm = $("#register-form");
setupForm(registerForm);
export const regMap = L.map("reg-map").setView([16, 106], 6);
basemapLayer().addTo(regMap);
export const regAreaLayer = L.geoJSON(null, { style: AREA_STYLE }).addTo(regMap);
let pinMarker = null;

const OUTSIDE = () => gettext("This point is outside the areas you work in. Move the pin to the site, or ask your manager.");

// The check runs as the pin moves and is shown beside it, before anything is typed.
function checkPin() {
  const inside = insideMyAreas(state.pin);
  const area = areaAt(state.pin);
  const text = inside ? (area ? area.properties.name : "") : OUTSIDE();
  $("#pin-check").textContent = inside ? "" : text;
  pinMarker.unbindTooltip();
  // A text node: the area name (from a boundary file) must not be read as HTML.
  if (text) pinMarker.bindTooltip(document.createTextNode(text), { permanent: true, direction: "top", offset: [0, -36], className: inside ? "pin-ok" : "pin-outside" }).openTooltip();
  pinMarker.getElement()?.classList.toggle("outside", !inside);
}

function describePin() {
  const where = $("#reg-location");
  const confirm = $("#accuracy-confirm");
  where.classList.remove("warn", "danger");
  confirm.hidden = true;
  if (!state.pin) {
    where.textContent = gettext("No GPS position: tap the map where the site is to place the pin.");
    where.classList.add("warn");
    return;
  }
  const [lon, lat] = state.pin;
  if (!state.pinFromGps) {
    const gps = state.position ? ` · ${gettext("GPS")} ${accuracyText(state.position.accuracy)}` : "";
    const how = state.pinKept ? gettext("where the GPS was when the form was begun") : gettext("placed by hand");
    where.textContent = `${lat.toFixed(6)}, ${lon.toFixed(6)} (${how})${gps}`;
    return;
  }
  const accuracy = state.position.accuracy;
  let text = `${lat.toFixed(6)}, ${lon.toFixed(6)} (${gettext("from GPS")}, ${accuracyText(accuracy)})`;
  if (accuracy > config.accuracyConfirm) {
    text += `. ${gettext("The GPS is far from precise: move the pin onto the site, or confirm below that it is there.")}`;
    where.classList.add("danger");
    confirm.hidden = false;
  } else if (accuracy > config.accuracyWarn) {
    text += `. ${gettext("The GPS is not precise: check that the pin is on the site.")}`;
    where.classList.add("warn");
  }
  where.textContent = text;
}

// `kept`: a pin the GPS put when a form now taken up was begun, which stays there.
export function placePin(point, fromGps, { kept = false } = {}) {
  state.pin = [...point];
  state.pinFromGps = fromGps;
  state.pinKept = kept;
  const latlng = [point[1], point[0]];
  if (!pinMarker) {
    pinMarker = L.marker(latlng, { draggable: true, autoPan: true, title: gettext("The site") }).addTo(regMap);
    pinMarker.on("drag dragend", () => {
      const position = pinMarker.getLatLng();
      state.pin = [position.lng, position.lat];
      state.pinFromGps = false;
      state.pinKept = false;
      describePin();
      checkPin();
      draftChanged(registerForm);
    });
  } else {
    pinMarker.setLatLng(latlng);
    if (!regMap.hasLayer(pinMarker)) pinMarker.addTo(regMap);
  }
  if (fromGps || kept) regMap.setView(latlng, 17);
  describePin();
  checkPin();
  if (!fromGps) draftChanged(registerForm);
}

// A tap on the map puts the pin there: the only way without a GPS fix.
regMap.on("click", (event) => placePin([event.latlng.lng, event.latlng.lat], false));

// The registration form, empty, for a new site or for a refused one (`record`) to be fixed.
export function openRegister(record = null) {
  begin(registerForm, { editing: record?.id ?? null, record });
  resetForm(registerForm);
  state.allowDuplicate = false;
  state.pin = null;
  state.pinFromGps = false;
  state.pinKept = false;
  if (pinMarker) pinMarker.remove();
  $("#pin-check").textContent = "";
  show("register");
  if (state.position) placePin(state.position.coords, true);
  else {
    if (state.areas.features.length) regMap.fitBounds(regAreaLayer.getBounds());
    describePin();
  }
  markOpened(registerForm);
}

// "Register a site": the registration begun and not saved is taken up where it was.
export function openRegistration() {
  if (holds(registerForm, { form: registerForm.id })) return show("register");
  openRegister();
  takeUpDraft(registerForm);
}
$("#new-site").addEventListener("click", () => {
  if (nobodySignedIn()) return;
  openRegistration();
});

function nearbyDuplicate(point, kind) {
  return allSites()
    .filter((f) => f.properties.kind === kind && f.properties.id !== live.get(registerForm)?.editing)
    .map((f) => ({ feature: f, distance: distanceMetres(point, f.geometry.coordinates) }))
    .filter((x) => x.distance <= config.duplicateRadius)
    .sort((a, b) => a.distance - b.distance)[0];
}

function locationProblems() {
  if (!state.pin) return [gettext("Place the pin on the site: there is no GPS position.")];
  const problems = [];
  if (!insideMyAreas(state.pin)) problems.push(OUTSIDE());
  const vague = state.pinFromGps && state.position.accuracy > config.accuracyConfirm;
  if (vague && !$("input[name=accuracy_confirmed]", registerForm).checked) {
    problems.push(fmt(gettext("Confirm that the pin is on the site: the GPS is accurate only to ± %(acc)s m."), { acc: number(state.position.accuracy) }));
  }
  return problems;
}

registerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = $(".form-errors", registerForm);
  const kind = chosen(registerForm, "kind");
  const name = $("input[name=name]", registerForm).value.trim();
  const problems = [...locationProblems()];
  if (!kind) problems.push(gettext("Choose the kind of site."));
  if (!name) problems.push(gettext("Give the site a name."));
  problems.push(...requireStates(registerForm), ...fieldProblems(registerForm));
  errors.textContent = problems.join(" ");
  if (problems.length) return;
  const duplicate = nearbyDuplicate(state.pin, kind);
  if (duplicate && !state.allowDuplicate) {
    const p = duplicate.feature.properties;
    $("#duplicate-text").textContent = fmt(gettext("%(name)s (%(code)s), a site of the same kind, is %(m)s m away."), {
      name: p.name,
      code: p.code || gettext("not sent yet"),
      m: Math.round(duplicate.distance),
    });
    const dialog = $("#duplicate-dialog");
    dialog.showModal();
    $("#open-existing").onclick = () => {
      dialog.close();
      openExisting(duplicate.feature);
    };
    $("#register-anyway").onclick = () => {
      dialog.close();
      state.allowDuplicate = true;
      registerForm.requestSubmit();
    };
    return;
  }
  // The outbox record and the site share one UUID, so a replay is recognised.
  const editing = await takeEditing(registerForm);
  const id = editing ? editing.id : crypto.randomUUID();
  const inspection = inspectionPayload(registerForm, editing ? { id: editing.payload.inspection.id } : {});
  const payload = {
    id,
    kind,
    name,
    location: { type: "Point", coordinates: state.pin.map((v) => Number(v.toFixed(7))) },
    deep_water: chosen(registerForm, "deep_water") === "true",
    depth_m: numberValue(registerForm, "depth_m"),
    inspection,
  };
  const photos = picked.get(registerForm);
  if (editing) await outbox.resend(id, { payload, photos: [...editing.photos.filter((p) => p.sent), ...photos] });
  else await outbox.add({ id, type: "site", label: name, payload, photos });
  closeDraft(registerForm);
  resetForm(registerForm);
  show(editing ? "outbox" : "map");
  sync();
});
