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

// An area by its protected share (a percentage with one decimal, as the registry rounds
// it), on the planner map and in reports: the bands, highest first, each from its least
// share; and the colour of an area where no site counts (no share).
export const SHARE_BANDS = [
  { from: 100, colour: STATE_COLOURS.protected },
  { from: 80, colour: "#a6d96a" },
  { from: 50, colour: "#fdae61" },
  { from: 0, colour: "#d7191c" },
];
export const NO_SHARE = "#cccccc";

export function shareColour(share) {
  if (share === null || share === undefined) return NO_SHARE;
  return SHARE_BANDS.find((band) => share >= band.from).colour;
}

// Every legend of those colours, one entry per band and one for no share (`none`, the
// page's words), the shares a band holds in the page's language: a share has one
// decimal, so a band ends a tenth below the next one ("50–79,9%" in Vietnamese).
export function shareLegend(none, lang = document.documentElement.lang || "vi") {
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const bands = SHARE_BANDS.map(({ from, colour }, i) => {
    const above = SHARE_BANDS[i - 1];
    const shares = above ? `${number.format(from)}–${number.format(above.from - 0.1)}` : number.format(from);
    return { colour, label: `${shares}%` };
  });
  return [...bands, { colour: NO_SHARE, label: none }];
}

// Style sheets read the same colours as custom properties (--state-protected, ...).
export function paletteToCss(root = document.documentElement) {
  for (const [state, colour] of Object.entries(STATE_COLOURS)) root.style.setProperty(`--state-${state}`, colour);
  root.style.setProperty("--due-ring", DUE_RING);
}
