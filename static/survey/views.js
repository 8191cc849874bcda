// The app's views (map, due list, outbox, forms), one on screen at a time.
import { $$ } from "./dom.js";
import { keepDraft, live, viewOf } from "./drafts.js";
import { renderDue } from "./due-list.js";
import { map } from "./map.js";
import { regMap } from "./register.js";

export function show(name) {
  const left = [...live.keys()].filter((form) => !viewOf(form).hidden && viewOf(form).id !== `view-${name}`);
  $$(".view").forEach((view) => (view.hidden = view.id !== `view-${name}`));
  // A form left for another view is kept as it is now, no longer on screen.
  left.forEach((form) => keepDraft(form));
  $$(".tabs [data-view]").forEach((tab) => tab.classList.toggle("active", tab.dataset.view === name));
  if (name === "map") map.invalidateSize();
  if (name === "due") renderDue();
  if (name === "register") regMap.invalidateSize();
}
$$("[data-view]").forEach((button) => button.addEventListener("click", () => show(button.dataset.view)));
