// What the app knows now, shared by its modules: who is signed in, the areas, the site list,
// the outbox, the position, the forms begun; and whom records are made for.
export const state = {
  me: null,
  areas: { type: "FeatureCollection", features: [] },
  sites: { type: "FeatureCollection", features: [], complete: true },
  proposals: [], // the worker's closure proposals and the managers' decisions, newest first
  naming: Promise.resolve(), // the site list's second part, on its way
  namingNow: false, // while it is: no other list is fetched
  dataAt: 0,
  records: [], // the outbox, kept in step by outbox.onChange
  position: null, // { coords: [lon, lat], accuracy }
  device: null, // the pairing: { token, username, fullName }
  authLost: false, // 401: sending stops until the tablet is paired or signed in again
  serverDown: false, // the network is up, but the server took nothing at the last try
  pin: null, // registration point chosen by the worker
  pinFromGps: false,
  pinKept: false, // the GPS's place when a form now taken up again was begun
  inspecting: null,
  drafts: [], // every form begun and not saved or cancelled, of everyone on this tablet
  allowDuplicate: false,
};

// Who records are made for: the person signed in (by session or pairing), as last known, so
// offline too. Nobody (never signed in, or signed out): no record is taken, none could be sent.
export function person() {
  const username = state.me?.username || state.device?.username;
  return username ? { username, name: state.me?.name || state.device?.fullName || username } : null;
}
