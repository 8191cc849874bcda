// Draws the sites of the admin list on its Leaflet map, coloured by protection state in
// the palette every map shares. A module, run before the page's load event, when
// django-leaflet builds the map and calls this.
import { paletteToCss } from "../common/palette.js";

paletteToCss();
window.showListedSites = function (map) {
  const data = JSON.parse(document.getElementById("sites-geojson").textContent);
  const layer = L.geoJSON(data, {
    pointToLayer: (feature, latlng) =>
      L.circleMarker(latlng, { radius: 7, weight: 2, className: "site-dot " + feature.properties.state }),
    onEachFeature: (feature, marker) => {
      const link = document.createElement("a");
      link.href = feature.properties.url;
      link.textContent = feature.properties.code + " · " + feature.properties.name;
      marker.bindPopup(link);
    },
  }).addTo(map);
  if (data.features.length) {
    map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [20, 20] });
  }
};
