// What the worker reads: gettext from Django's JavaScript catalogue, and numbers, days and
// times as the worker's language writes them.
import { config } from "./config.js";

// gettext and interpolate come from Django's JavaScript catalogue (survey/jsi18n/).
const { gettext, interpolate } = window;
export { gettext };

export const LANG = document.documentElement.lang || "vi";
export const fmt = (text, params) => interpolate(text, params, true);
export const number = (n, digits = 0) => n.toLocaleString(LANG, { maximumFractionDigits: digits });
export const distanceText = (metres) => (metres < 1000 ? `${number(metres)} m` : `${number(metres / 1000, 1)} km`);
// Days and times in the registry's time zone (the server's, whatever the tablet's own),
// written as Vietnamese forms write them: 09/08/2026, 21:45.
const ZONE = { timeZone: config.timeZone };
export const day = (when) => new Date(when).toLocaleDateString(LANG, { ...ZONE, day: "2-digit", month: "2-digit", year: "numeric" });
export const clockTime = (when) => new Date(when).toLocaleTimeString(LANG, { ...ZONE, hour: "2-digit", minute: "2-digit" });
