// What the registration and inspection forms share: the sign, barrier and water choices,
// the photos picked, what was entered since a form opened, the checks of typed values
// before saving, and the inspection a form records.
import { config } from "./config.js";
import { $, $$, button } from "./dom.js";
import { fmt, gettext, LANG, number } from "./format.js";
import { formatDecimal, parseDecimal, roundedHalfUp } from "./numbers.js";
import { prepare as preparePhoto } from "./photos.js";
import { state } from "./state.js";

// Photos chosen for a form: each pick adds to them (the camera gives one per tap).
export const picked = new WeakMap();

export function renderThumbs(form) {
  const thumbs = $(".thumbs", form);
  thumbs.replaceChildren();
  for (const photo of picked.get(form)) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = URL.createObjectURL(photo.blob);
    image.alt = gettext("Photo");
    image.onload = () => URL.revokeObjectURL(image.src);
    const size = document.createElement("span");
    size.textContent = `${number(photo.bytes / 1000)} KB`;
    const remove = button("×", () => {
      picked.set(form, picked.get(form).filter((p) => p !== photo));
      renderThumbs(form);
    }, "remove");
    remove.setAttribute("aria-label", gettext("Remove this photo"));
    item.append(image, size, remove);
    thumbs.append(item);
  }
}

export async function addPhotos(form, files) {
  const errors = $(".form-errors", form);
  for (const file of files) {
    try {
      picked.get(form).push(await preparePhoto(file));
    } catch {
      errors.textContent = fmt(gettext("%(name)s could not be read as a photo."), { name: file.name });
    }
    renderThumbs(form);
  }
}

// What a form held when it opened (empty, or a refused record back to be fixed): Cancel
// asks before throwing away anything entered since.
const opened = new WeakMap();

// The fields (by name) the worker has answered in a form: tapped, typed, or brought back
// from a draft, a refused record or a registration. What the app chose by itself (the
// last known state, the choice a group starts with) is not among them, whatever its value:
// the app never replaces an answer without asking (answersReplaced).
export const given = new WeakMap();

export function give(form, names) {
  for (const name of names) given.get(form).add(name);
}

// Every field of a form, typed or chosen, by name.
export function flatValues(form) {
  const { fields, choices } = formValues(form);
  return { ...fields, ...choices };
}

// Of `values` (by name), the ones that would replace an answer the worker gave: one rule
// for every field of the form, present or to come.
export function answersReplaced(form, values) {
  const now = flatValues(form);
  return Object.keys(values).filter((name) => given.get(form).has(name) && name in now && String(values[name]) !== String(now[name]));
}

// Puts `values` (by name) in the form's fields and choices.
export function setValues(form, values) {
  for (const [name, value] of Object.entries(values)) {
    if ($(`.choices[data-name=${name}]`, form)) choose(form, name, value);
    else {
      const field = $(`[name=${name}]`, form);
      if (field?.type === "checkbox") field.checked = value;
      else if (field) field.value = value;
    }
  }
}

// What the form says of `name`, in its own words: "Warning sign: No sign", "Notes: …".
export function answerText(form, name, value) {
  const group = $(`.choices[data-name=${name}]`, form);
  if (!group) return `${fieldLabel($(`[name=${name}]`, form))}: ${value}`;
  const label = $(`button[data-value="${value}"]`, group)?.firstChild.textContent.trim() ?? value;
  return `${$("legend", group.closest("fieldset")).textContent}: ${label}`;
}

// What is typed and chosen in a form, by name (photos apart).
export function formValues(form) {
  const fields = $$("input[name]:not([type=file]), textarea[name]", form);
  return {
    fields: Object.fromEntries(fields.map((field) => [field.name, field.type === "checkbox" ? field.checked : field.value])),
    choices: Object.fromEntries($$(".choices", form).map((group) => [group.dataset.name, chosen(form, group.dataset.name)])),
  };
}

function formState(form) {
  return JSON.stringify(formValues(form));
}

export function markOpened(form) {
  opened.set(form, { state: formState(form), photos: [...picked.get(form)], given: new Set(given.get(form)) });
}

// A choice the form makes by itself after it opened (what comes with the site's history):
// it is not something the worker entered.
export function presetChoice(form, name, value) {
  choose(form, name, value);
  const start = opened.get(form);
  const values = JSON.parse(start.state);
  values.choices[name] = chosen(form, name);
  opened.set(form, { ...start, state: JSON.stringify(values) });
}

export function entered(form) {
  const start = opened.get(form);
  const photos = picked.get(form);
  if (!start) return true;
  // An answer given equal to what the form showed is entered too: kept, and never replaced.
  const answered = [...given.get(form)].some((name) => !start.given.has(name));
  return answered || start.state !== formState(form) || photos.length !== start.photos.length || photos.some((p, i) => p !== start.photos[i]);
}

export function choose(form, name, value) {
  $$(`.choices[data-name=${name}] button`, form).forEach((b) => {
    b.classList.toggle("chosen", b.dataset.value === String(value));
    b.setAttribute("aria-pressed", String(b.dataset.value === String(value)));
  });
}

export function chosen(form, name) {
  return $(`.choices[data-name=${name}] .chosen`, form)?.dataset.value ?? null;
}

export function resetForm(form) {
  form.reset();
  picked.set(form, []);
  given.set(form, new Set());
  renderThumbs(form);
  $(".form-errors", form).textContent = "";
  $(".draft-note", form).hidden = true;
  $$(".was", form).forEach((mark) => mark.remove());
  $$(".choices", form).forEach((group) => {
    $$("button", group).forEach((b) => {
      b.classList.remove("chosen");
      b.removeAttribute("aria-pressed");
    });
    if (["deep_water", "water_present"].includes(group.dataset.name)) $("button", group).classList.add("chosen");
  });
}

// A refused record back in its form, to be fixed: its answers are the worker's.
export function fillForm(form, inspection, photos) {
  const values = {
    signage: inspection.signage,
    barrier: inspection.barrier,
    water_present: inspection.water_present,
    water_depth_m: formatDecimal(inspection.water_depth_m, LANG),
    notes: inspection.notes || "",
  };
  setValues(form, values);
  give(form, Object.keys(values));
  picked.set(form, photos.filter((p) => !p.sent));
  renderThumbs(form);
}

export function inspectionPayload(form, extra) {
  return {
    id: crypto.randomUUID(),
    // The tablet's own clock; the server corrects it by the offset it measures (X-Device-Time).
    inspected_at: new Date().toISOString(),
    signage: chosen(form, "signage"),
    barrier: chosen(form, "barrier"),
    water_present: chosen(form, "water_present") === "true",
    water_depth_m: numberValue(form, "water_depth_m"),
    notes: $("textarea[name=notes]", form).value,
    gps_fix: state.position ? { type: "Point", coordinates: state.position.coords } : null,
    gps_accuracy_m: state.position ? state.position.accuracy : null,
    ...extra,
  };
}

// Number fields (data-number) are text fields: a number input would drop or mangle the
// decimal comma Vietnamese writes (2,5 became 25). Read here, sent with a point.
function fieldLabel(input) {
  return input.closest("label")?.firstChild?.textContent.trim() || input.name;
}

// What the server would refuse in the typed values, said before saving: the limits and
// their messages come from the server (config.limits), which checks them again.
function numberProblem(input, limit) {
  const read = parseDecimal(input.value);
  if (read.invalid) {
    return fmt(gettext("%(field)s: “%(text)s” is not a number. Write it like 2,5 or 2.5."), {
      field: fieldLabel(input),
      text: input.value.trim(),
    });
  }
  if (read.value === null || !limit) return null;
  const value = limit.places === undefined ? read.value : roundedHalfUp(read.text, limit.places);
  if (value <= limit.above || value > limit.max) return `${fieldLabel(input)}: ${limit.message}`;
  return null;
}

export function fieldProblems(form) {
  const problems = [];
  for (const input of $$("input[name], textarea[name]", form)) {
    const limit = config.limits[input.name];
    if (!limit && input.dataset.number === undefined) continue;
    let problem = null;
    if (input.dataset.number !== undefined) problem = numberProblem(input, limit);
    // Characters as the server counts them (a value put back in the form may be longer
    // than the field lets a finger type).
    else if (limit?.maxLength && [...input.value].length > limit.maxLength) problem = limit.message;
    input.setAttribute("aria-invalid", String(Boolean(problem)));
    if (problem) problems.push(problem);
  }
  return problems;
}

export function numberValue(form, name) {
  return parseDecimal($(`input[name=${name}]`, form).value).text ?? null;
}

export function requireStates(form) {
  const missing = [];
  if (!chosen(form, "signage")) missing.push(gettext("Choose the state of the warning sign."));
  if (!chosen(form, "barrier")) missing.push(gettext("Choose the state of the barrier."));
  return missing;
}
