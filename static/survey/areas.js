// The areas the worker works in: how their outline is drawn, and which of them holds a point.
import { inGeometry } from "./geo.js";
import { state } from "./state.js";

export const AREA_STYLE = { color: "#0b3d91", weight: 2, fillOpacity: 0.04, interactive: false };

export function areaAt(point) {
  return state.areas.features.find((area) => inGeometry(point, area.geometry)) || null;
}

export function insideMyAreas(point) {
  return !state.areas.features.length || Boolean(areaAt(point));
}
