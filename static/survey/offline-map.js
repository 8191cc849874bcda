// "Offline map of my communes": the basemap tiles over the worker's communes, stored in
// Cache Storage, where the service worker serves them from when there is no network.
// Loaded only when the worker opens the dialog.
export const CACHE = "basemap-tiles";
// Until some tiles are measured, a raster basemap tile is taken to weigh this much.
const TYPICAL_TILE_BYTES = 15_000;
const PARALLEL = 4;

const lon2x = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
function lat2y(lat, z) {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
}

function bbox(geometry) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      box[0] = Math.min(box[0], c[0]);
      box[1] = Math.min(box[1], c[1]);
      box[2] = Math.max(box[2], c[0]);
      box[3] = Math.max(box[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return box;
}

// The tile URLs covering each area's bounding box at every zoom from min to max.
export function tileUrls(template, areas, [minZoom, maxZoom]) {
  const urls = new Set();
  for (const area of areas.features) {
    const [west, south, east, north] = bbox(area.geometry);
    for (let z = minZoom; z <= maxZoom; z += 1) {
      for (let x = lon2x(west, z); x <= lon2x(east, z); x += 1) {
        for (let y = lat2y(north, z); y <= lat2y(south, z); y += 1) {
          urls.add(template.replace("{s}", "a").replace("{z}", z).replace("{x}", x).replace("{y}", y).replace("{r}", ""));
        }
      }
    }
  }
  return [...urls];
}

export async function status(urls) {
  const cache = await caches.open(CACHE);
  let stored = 0;
  for (const url of urls) if (await cache.match(url)) stored += 1;
  return { total: urls.length, stored, estimatedBytes: (urls.length - stored) * TYPICAL_TILE_BYTES };
}

// Stores the tiles not yet stored; onProgress({ done, total, bytes, failed }) after each.
export async function download(urls, onProgress) {
  const cache = await caches.open(CACHE);
  const queue = [];
  for (const url of urls) if (!(await cache.match(url))) queue.push(url);
  const progress = { done: 0, total: queue.length, bytes: 0, failed: 0 };
  onProgress(progress);
  async function worker() {
    while (queue.length) {
      const url = queue.shift();
      try {
        const response = await fetch(url, { mode: "cors", credentials: "omit" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const blob = await response.clone().blob();
        await cache.put(url, response);
        progress.bytes += blob.size;
      } catch {
        progress.failed += 1;
      }
      progress.done += 1;
      onProgress(progress);
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return progress;
}
