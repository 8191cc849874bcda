// Child areas of the report coloured by their protected share; a click opens their report.
const data = JSON.parse(document.getElementById("children-map").textContent);
const colour = (share) =>
  share === null || share === undefined ? "#cccccc" : share >= 100 ? "#1a9641" : share >= 80 ? "#a6d96a" : share >= 50 ? "#fdae61" : "#d7191c";
const map = L.map("area-map");
L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 18, attribution: "&copy; OpenStreetMap" }).addTo(map);
const layer = L.geoJSON(data, {
  style: (f) => ({ color: "#333", weight: 1, fillColor: colour(f.properties.protected), fillOpacity: 0.8 }),
  onEachFeature: (f, shape) => {
    const share = f.properties.protected;
    shape.bindTooltip(`${f.properties.name}: ${share === null || share === undefined ? "–" : share.toFixed(1) + "%"}`);
    shape.on("click", () => {
      const params = new URLSearchParams(location.search);
      params.set("area", f.properties.code);
      location.search = params.toString();
    });
  },
}).addTo(map);
if (data.features.length) map.fitBounds(layer.getBounds());
else map.setView([16, 106], 5);
