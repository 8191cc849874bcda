// One colour language for every map of the registry (the planner map, the survey app):
// the fill says a site's state, as the server names it; a black ring says "due for
// inspection". Anything else a map needs to say (not sent yet, selected) uses another
// cue than a state colour.
export const STATE_COLOURS = {
  unprotected: "#d7191c",
  signed_only: "#fdae61",
  fenced_only: "#7b3294",
  protected: "#1a9641",
  closed: "#9e9e9e",
};
export const DUE_RING = "#000000";

// An area by its protected share (percent), on the planner map and in reports.
export function shareColour(share) {
  if (share === null || share === undefined) return "#cccccc";
  return share >= 100 ? "#1a9641" : share >= 80 ? "#a6d96a" : share >= 50 ? "#fdae61" : "#d7191c";
}

// Style sheets read the same colours as custom properties (--state-protected, ...).
export function paletteToCss(root = document.documentElement) {
  for (const [state, colour] of Object.entries(STATE_COLOURS)) root.style.setProperty(`--state-${state}`, colour);
  root.style.setProperty("--due-ring", DUE_RING);
}
