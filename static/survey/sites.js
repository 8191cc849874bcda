// The sites as the app shows them: the server's list with the records not sent yet on top,
// and the state of a site's protection (sign and barrier).
import { config } from "./config.js";
import { gettext } from "./format.js";
import { state } from "./state.js";

// The state rule lives on the server; it hands it over as a table (signage|barrier -> state).
export const stateOf = (p) => p.state || config.states[`${p.signage}|${p.barrier}`] || "unprotected";
export const STATE_LABEL = config.stateLabels;

// Sites known to the server with the outbox's records on top: new sites, and the latest
// inspection of a known site (its state shown at once, no longer due), while they wait
// and once sent until a site list asked for after their sending holds them (`queued`:
// not sent yet).
export function allSites() {
  const shown = state.records.filter((r) => r.state !== "sent" || r.sentAt > state.dataAt);
  const inspected = new Map();
  for (const r of shown) if (r.type === "inspection") inspected.set(r.payload.site, r);
  const overlay = (feature) => {
    const record = inspected.get(feature.properties.id);
    if (!record) return feature;
    const inspection = record.payload;
    const p = { ...feature.properties, signage: inspection.signage, barrier: inspection.barrier, state: null };
    return {
      ...feature,
      properties: {
        ...p, state: stateOf(p), due: false, last_checked_at: inspection.inspected_at, queued: record.state !== "sent",
      },
    };
  };
  const fresh = shown
    .filter((r) => r.type === "site")
    .map((r) => {
      const p = { signage: r.payload.inspection?.signage, barrier: r.payload.inspection?.barrier };
      return {
        type: "Feature",
        geometry: r.payload.location,
        properties: {
          id: r.id, code: "", name: r.payload.name, kind: r.payload.kind, queued: r.state !== "sent", due: false,
          new: true, ...p, state: stateOf(p), last_checked_at: r.payload.inspection?.inspected_at,
        },
      };
    });
  const freshIds = new Set(fresh.map((f) => f.properties.id));
  return [...state.sites.features.filter((f) => !freshIds.has(f.properties.id)).map(overlay), ...fresh];
}

export function describeStates(p) {
  const sign = config.signage[p.signage] || "–";
  const barrier = config.barrier[p.barrier] || "–";
  return `${gettext("Warning sign")}: ${sign} · ${gettext("Barrier")}: ${barrier}`;
}

// A site from the list's first part has its id and name once the second part is here.
export async function named(feature) {
  if (!feature.properties.id && !feature.properties.new) await state.naming;
  return Boolean(feature.properties.id || feature.properties.new);
}
