// The compact site list of /api/v1/survey/sites/ ({columns, sites: [[...], ...]}) as the
// GeoJSON features the survey app draws: one Point feature per row, the row's columns as
// properties (lon and lat become the geometry; due is a boolean).
export function siteFeatures(list) {
  const lon = list.columns.indexOf("lon");
  const lat = list.columns.indexOf("lat");
  const features = list.sites.map((row) => {
    const properties = {};
    list.columns.forEach((name, i) => {
      if (i !== lon && i !== lat) properties[name] = row[i];
    });
    properties.due = Boolean(properties.due);
    properties.last_checked_at = properties.checked;
    return { type: "Feature", geometry: { type: "Point", coordinates: [row[lon], row[lat]] }, properties };
  });
  return { type: "FeatureCollection", features };
}
