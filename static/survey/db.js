// IndexedDB: the outbox of unsent records (with their photo blobs), the cached area
// data, the tablet's pairing and the drafts of forms not saved. Everything here survives a tablet restart.
//
// Each version's step runs once, in order, inside the upgrade transaction, so a tablet
// that skipped versions is brought forward with its records intact. Never edit a step
// that has shipped: add the next one.
const DB_NAME = "hazard-survey";
const UPGRADES = [
  // 1: the first field app.
  (db) => {
    db.createObjectStore("outbox", { keyPath: "id" });
    db.createObjectStore("cache", { keyPath: "key" });
  },
  // 2: the pairing (device token) and the retry bookkeeping of every queued record.
  (db, tx) => {
    db.createObjectStore("device", { keyPath: "key" });
    const outbox = tx.objectStore("outbox");
    outbox.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const record = cursor.value;
      record.attempts ??= 0;
      record.retryAt ??= 0;
      record.sentAt ??= record.state === "sent" ? Date.now() : null;
      // Version 1 called a record "failed" on any refusal, a server error included:
      // give those another try, the server says again if the record itself is wrong.
      if (record.state === "failed") record.state = "pending";
      for (const photo of record.photos || []) photo.bytes ??= photo.blob ? photo.blob.size : 0;
      cursor.update(record);
      cursor.continue();
    };
  },
  // 3: every form begun and not saved has its draft (the cache held one, the last begun).
  (db, tx) => {
    const drafts = db.createObjectStore("drafts", { keyPath: "key" });
    const cache = tx.objectStore("cache");
    cache.get("draft").onsuccess = (event) => {
      const kept = event.target.result;
      if (!kept) return;
      drafts.put({ ...kept.value, key: crypto.randomUUID(), at: kept.at });
      cache.delete("draft");
    };
  },
];
export const VERSION = UPGRADES.length;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, VERSION);
      request.onupgradeneeded = (event) => {
        for (let version = event.oldVersion; version < VERSION; version += 1) {
          UPGRADES[version](request.result, request.transaction);
        }
      };
      request.onsuccess = () => {
        // Another tab with a newer app asks to upgrade: step aside so it can.
        request.result.onversionchange = () => request.result.close();
        resolve(request.result);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("blocked"));
    });
  }
  return opening;
}

function run(store, mode, work) {
  return open().then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const result = work(tx.objectStore(store));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      }),
  );
}

export const put = (store, value) => run(store, "readwrite", (s) => s.put(value));
export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
export const all = (store) => run(store, "readonly", (s) => s.getAll());
export const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));
// Reads the value under `key` and writes what `change` makes of it (undefined: nothing,
// null: removed) in one transaction: no other tab writes in between.
export const update = (store, key, change) =>
  run(store, "readwrite", (s) => {
    s.get(key).onsuccess = (event) => {
      const next = change(event.target.result);
      if (next === null) s.delete(key);
      else if (next !== undefined) s.put(next);
    };
  });
export const clear = (store) => run(store, "readwrite", (s) => s.clear());
