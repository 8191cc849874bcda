// Child areas of the report coloured by their protected share; a click opens their report.
import { basemapLayer } from "../common/basemap.js";
import { shareColour as colour } from "../common/palette.js";

const data = JSON.parse(document.getElementById("children-map").textContent);
const map = L.map("area-map");
basemapLayer().addTo(map);
const layer = L.geoJSON(data, {
  style: (f) => ({ color: "#333", weight: 1, fillColor: colour(f.properties.protected), fillOpacity: 0.8 }),
  onEachFeature: (f, shape) => {
    // A text node: a string would be set as HTML, and area names come from boundary files.
    shape.bindTooltip(document.createTextNode(`${f.properties.name}: ${f.properties.protected_text}`));
    shape.on("click", () => {
      const params = new URLSearchParams(location.search);
      params.set("area", f.properties.code);
      location.search = params.toString();
    });
  },
}).addTo(map);
if (data.features.length) map.fitBounds(layer.getBounds());
else map.setView([16, 106], 5);
