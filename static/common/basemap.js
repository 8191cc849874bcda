// The background map of every map page: one XYZ raster source for the whole project,
// set by the operator (settings.BASEMAP) and handed to the page as JSON (#basemap).
export const basemap = JSON.parse(document.getElementById("basemap").textContent);

export function basemapLayer(options = {}) {
  return L.tileLayer(basemap.url, { maxZoom: basemap.max_zoom, attribution: basemap.attribution, ...options });
}
