// Service worker of the survey app: keeps the app shell and Leaflet on the tablet so the
// app opens with no signal, and serves the basemap tiles stored by "offline map of my
// communes". Registry data live in IndexedDB, managed by the page.
const CACHE = "survey-{{ version }}";
const SHELL = {{ shell|safe }};
const PAGE = SHELL[0];
// Same name as in static/survey/offline-map.js, which fills it.
const TILES = "basemap-tiles";
const BASEMAP_ORIGIN = "{{ basemap_origin|escapejs }}";
// Whether the tile server's terms allow storing its tiles (settings.BASEMAP["offline"]):
// when not, tiles stored before (under another setting) are dropped and never served.
const TILES_ALLOWED = {{ basemap.offline|yesno:"true,false" }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => keys.filter((k) => (k.startsWith("survey-") && k !== CACHE) || (k === TILES && !TILES_ALLOWED)))
      .then((old) => Promise.all(old.map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isBasemapTile(url) {
  return BASEMAP_ORIGIN.startsWith("*.")
    ? url.host.endsWith(BASEMAP_ORIGIN.slice(1))
    : url.origin === BASEMAP_ORIGIN;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET") return;
  if (TILES_ALLOWED && isBasemapTile(url)) {
    // Stored tiles first (they do not change often), the network for the rest.
    event.respondWith(
      caches.open(TILES).then((cache) => cache.match(request.url).then((hit) => hit || fetch(request))),
    );
    return;
  }
  if (url.origin !== self.location.origin || url.pathname.includes("/api/")) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    // Fresh page when online; the cached one when not.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(PAGE, copy));
          }
          return response;
        })
        .catch(() => caches.match(PAGE, { ignoreVary: true })),
    );
    return;
  }
  event.respondWith(caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((hit) => hit || fetch(request)));
});
