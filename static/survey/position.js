// The tablet's GPS position: followed, drawn on the map and said below it.
import { config } from "./config.js";
import { $ } from "./dom.js";
import { renderDue } from "./due-list.js";
import { fmt, gettext, number } from "./format.js";
import { map, meRenderer } from "./map.js";
import { placePin } from "./register.js";
import { state } from "./state.js";

let meMarker = null;
let meCircle = null;

export function accuracyText(accuracy) {
  return fmt(gettext("accurate to ± %(acc)s m"), { acc: number(accuracy) });
}

function onPosition(position) {
  const first = !state.position;
  state.position = {
    coords: [position.coords.longitude, position.coords.latitude],
    accuracy: Math.round(position.coords.accuracy),
  };
  const latlng = [position.coords.latitude, position.coords.longitude];
  if (!meMarker) {
    meCircle = L.circle(latlng, { radius: state.position.accuracy, className: "me-accuracy", pane: "me", renderer: meRenderer, interactive: false }).addTo(map);
    meMarker = L.circleMarker(latlng, { radius: 9, className: "me", pane: "me", renderer: meRenderer, interactive: false }).addTo(map);
  } else {
    meMarker.setLatLng(latlng);
    meCircle.setLatLng(latlng).setRadius(state.position.accuracy);
  }
  if (first) map.setView(latlng, 15);
  const gps = $("#gps");
  gps.textContent = fmt(gettext("GPS: %(lat)s, %(lon)s (± %(acc)s m)"), {
    lat: latlng[0].toFixed(6),
    lon: latlng[1].toFixed(6),
    acc: number(state.position.accuracy),
  });
  gps.classList.toggle("warn", state.position.accuracy > config.accuracyWarn);
  if (!$("#view-due").hidden) renderDue();
  if (!$("#view-register").hidden && state.pinFromGps) placePin(state.position.coords, true);
  else if (!$("#view-register").hidden && !state.pin) placePin(state.position.coords, true);
}
$("#gps").textContent = gettext("No GPS position yet.");
if ("geolocation" in navigator) {
  navigator.geolocation.watchPosition(onPosition, () => !state.position && ($("#gps").textContent = gettext("No GPS position yet.")), {
    enableHighAccuracy: true,
    maximumAge: 10000,
  });
}
