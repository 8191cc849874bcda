// Who is signed in: the name in the header, the banner when nobody is (or a session or
// pairing has ended), and pairing the tablet.
import { config } from "./config.js";
import { refreshData } from "./data.js";
import { $, button } from "./dom.js";
import { renderDrafts } from "./drafts.js";
import { fmt, gettext } from "./format.js";
import * as pairing from "./pairing.js";
import { person, state } from "./state.js";
import { sync } from "./sync.js";
import { show } from "./views.js";

// Before a record is begun: with nobody signed in, say what to do instead.
export function nobodySignedIn() {
  if (person()) return false;
  authLost();
  show("pair");
  return true;
}

function banner(...content) {
  const element = $("#banner");
  element.hidden = !content.length;
  element.replaceChildren(...content);
}

export function renderWho() {
  renderDrafts(); // whose they are
  if (!state.me) return;
  const who = `${state.me.name} · ${state.me.areas.map((a) => a.name).join(", ")}`;
  $("#who").textContent = who;
  $("#menu-who").textContent = state.device
    ? `${who} · ${fmt(gettext("paired as %(device)s"), { device: state.device.deviceName || state.device.username })}`
    : who;
}

// The server no longer accepts this tablet (token revoked, session ended): stop sending,
// keep every record, ask to pair again.
export function authLost() {
  state.authLost = true;
  const text = document.createElement("span");
  const who = person();
  if (!who) {
    text.textContent = gettext(
      "No one is signed in on this tablet. Sign in, or pair the tablet, before recording: a record made now could never be sent.",
    );
  } else if (state.device) {
    text.textContent = gettext("This tablet's pairing was revoked or has ended. Nothing is sent until it is paired again; your records are kept.");
  } else {
    text.textContent = fmt(
      gettext("Your session has ended. Sign in again as %(name)s (or pair this tablet) to send your records; until then they stay on this tablet."),
      { name: who.name },
    );
  }
  const again = button(gettext("Pair this tablet"), () => show("pair"), "primary");
  const signIn = Object.assign(document.createElement("a"), { href: config.urls.login, textContent: gettext("Sign in") });
  banner(text, " ", again, " ", signIn);
}

export const pairForm = $("#pair-form");
pairForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errors = $(".form-errors", pairForm);
  const code = pairForm.elements.code.value.trim();
  if (!code) {
    errors.textContent = gettext("Enter the code your manager shows you.");
    return;
  }
  errors.textContent = "";
  try {
    state.device = await pairing.pair(config.urls.pair, {
      code,
      // Empty: the server keeps the name the manager gave it.
      deviceName: pairForm.elements.device_name.value.trim(),
    });
  } catch (error) {
    errors.textContent = error.message;
    return;
  }
  state.authLost = false;
  banner();
  pairForm.reset();
  show("map");
  await refreshData().catch(() => {});
  sync();
});
