// The survey's site list, in two parts (hazards/selectors.py): the first draws the map
// and the due list, small enough for a slow network; the second, fetched after it by the
// first's version, names every site. Both become the GeoJSON features the app draws.
export const FORMAT = 2;

// A site's details: first ranks what goes first in the due list (2: an order awaiting
// verification, 1: a campaign site); order_state and order_deadline are those of its
// order not yet verified.
function details(columns, i) {
  return {
    code: columns.code[i],
    name: columns.name[i],
    kind: columns.kind[i],
    last_checked_at: columns.checked[i],
    first: columns.first[i],
    order_state: columns.order_state[i],
    order_deadline: columns.order_deadline[i],
  };
}

// Features from the first part: every site's place, signage, barrier and due, and the
// due sites' details. Ids, and the other sites' details, come with the second part.
export function firstPart(list) {
  if (list.format !== FORMAT) throw new Error(`unknown site list format ${list.format}`);
  const features = new Array(list.count);
  let x = 0;
  let y = 0;
  let due = 0;
  for (let i = 0; i < list.count; i++) {
    x += list.x[i];
    y += list.y[i];
    const properties = {
      id: null,
      signage: list.signage_values[list.signage.charCodeAt(i) - 48],
      barrier: list.barrier_values[list.barrier.charCodeAt(i) - 48],
      due: list.due[i] === "1",
    };
    if (properties.due) Object.assign(properties, details(list.due_sites, due++));
    features[i] = { type: "Feature", geometry: { type: "Point", coordinates: [x / list.scale, y / list.scale] }, properties };
  }
  return { type: "FeatureCollection", features, complete: false };
}

// The second part names the features of its first part in place: a sheet or form opened
// in between holds them and sees the names arrive.
export function complete(sites, rest) {
  if (rest.format !== FORMAT || rest.id.length !== sites.features.length) throw new Error("site list parts do not match");
  let other = 0;
  sites.features.forEach((feature, i) => {
    feature.properties.id = rest.id[i];
    if (!feature.properties.due) Object.assign(feature.properties, details(rest.other_sites, other++));
  });
  sites.complete = true;
  return sites;
}

// The features of both parts as the tablet keeps them (their JSON text).
export function fromText(first, rest) {
  return complete(firstPart(JSON.parse(first)), JSON.parse(rest));
}
