// Map symbols: colour says the state, shape says the kind, a black ring says "due"
// (the colours are the shared palette, static/common/palette.js).
// Clusters are rings split by state around their site count.
import { DUE_RING, STATE_COLOURS } from "../common/palette.js";

// Shapes drawn in an 18 x 18 box.
export const KIND_SHAPES = {
  pond: '<circle cx="9" cy="9" r="6.5"/>',
  lake: '<circle cx="9" cy="9" r="7"/><circle cx="9" cy="9" r="2.5" fill="#fff" stroke="none"/>',
  dam: '<path d="M9 2 L16 15 L2 15 Z"/>',
  canal: '<path d="M9 1.5 L16.5 9 L9 16.5 L1.5 9 Z"/>',
  well: '<path d="M5 2.5 H13 L16.5 9 L13 15.5 H5 L1.5 9 Z"/>',
  pit: '<rect x="2.5" y="2.5" width="13" height="13"/>',
  river_landing: '<path d="M2 3 H16 L9 16 Z"/>',
  irrigation_works: '<path d="M9 1.5 L16.5 7 L13.5 16 H4.5 L1.5 7 Z"/>',
  other: '<path d="M6.5 2 H11.5 V6.5 H16 V11.5 H11.5 V16 H6.5 V11.5 H2 V6.5 H6.5 Z"/>',
};

const svgURL = (svg) => `data:image/svg+xml,${encodeURIComponent(svg)}`;
const icons = new Map();

export function siteIcon(kind, state, due) {
  const key = `${kind}|${state}|${due}`;
  if (!icons.has(key)) {
    const stroke = due ? `stroke="${DUE_RING}" stroke-width="2.2"` : 'stroke="#fff" stroke-width="1.5"';
    const shape = KIND_SHAPES[kind] || KIND_SHAPES.other;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18"><g fill="${STATE_COLOURS[state]}" ${stroke}>${shape}</g></svg>`;
    icons.set(key, L.icon({ iconUrl: svgURL(svg), iconSize: [18, 18], iconAnchor: [9, 9] }));
  }
  return icons.get(key);
}

export function kindSwatch(kind) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18"><g fill="#666" stroke="#fff" stroke-width="1.5">${KIND_SHAPES[kind]}</g></svg>`;
  return `<img src="${svgURL(svg)}" width="14" height="14" alt="">`;
}

const short = (n) => (n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

export function clusterIcon(p) {
  const key = `c|${p.n}|${p.unprotected || 0}|${p.signed_only || 0}|${p.fenced_only || 0}|${p.protected || 0}`;
  if (!icons.has(key)) {
    const r = Math.round(9 + 4 * Math.log10(p.n));
    const size = 2 * r + 8;
    const c = size / 2;
    const circumference = 2 * Math.PI * r;
    let offset = 0;
    const arcs = Object.keys(STATE_COLOURS).map((state) => {
      const length = ((p[state] || 0) / p.n) * circumference;
      const arc = `<circle cx="${c}" cy="${c}" r="${r}" fill="none" stroke="${STATE_COLOURS[state]}" stroke-width="6" stroke-dasharray="${length} ${circumference - length}" stroke-dashoffset="${-offset}" transform="rotate(-90 ${c} ${c})"/>`;
      offset += length;
      return arc;
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><circle cx="${c}" cy="${c}" r="${r}" fill="#fff"/>${arcs.join("")}<text x="${c}" y="${c + 4}" text-anchor="middle" font-family="sans-serif" font-size="11" font-weight="bold" fill="#111">${short(p.n)}</text></svg>`;
    icons.set(key, L.icon({ iconUrl: svgURL(svg), iconSize: [size, size], iconAnchor: [c, c] }));
  }
  return icons.get(key);
}
