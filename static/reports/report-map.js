// Child areas of the report coloured by their protected share; a click opens their report.
// The colours, their legend and the bars' colour are the palette's, as on the planner map.
import { basemapLayer } from "../common/basemap.js";
import { paletteToCss, shareColour as colour, shareLegend } from "../common/palette.js";

paletteToCss();

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

// The colours' legend, as the planner map's (static/common/palette.js).
const legend = document.getElementById("share-legend");
legend.replaceChildren(
  ...shareLegend(legend.dataset.none).map(({ colour: background, label }) => {
    const item = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = background;
    item.append(swatch, ` ${label}`);
    return item;
  }),
);
