// Sending: the rounds that flush the outbox, and the network pill in the header.
import { DATA_MAX_AGE_MS, refreshData } from "./data.js";
import { $ } from "./dom.js";
import { gettext } from "./format.js";
import * as outbox from "./outbox.js";
import { refreshProposals } from "./proposals.js";
import { authLost } from "./signin.js";
import { state } from "./state.js";

let syncing = false;
// Asked for while a round was sending (a record saved meanwhile): the round sends again
// before it ends, rather than leaving the record to the next half-minute round.
let syncAgain = false;
let retryTimer = null;
// Whether the round under way is the app's own (its timers, the network coming back), not
// asked for by the person (a record saved, Send now): its requests then say so, and do not
// keep the person's session from its idle end (accounts/sessions.py). Records the person
// saved offline and sent later by the app are not their activity now either: should the
// session have ended meanwhile, they wait on the tablet for the next sign-in.
let passiveRound = false;
const BY_ITSELF = { passive: true };
// Rounds ended, on the page (data-sync-rounds): a test waits for the next one instead of
// waiting a while.
let syncRounds = 0;
export async function sync({ passive = false } = {}) {
  if (state.authLost || !navigator.onLine) return;
  if (syncing) {
    syncAgain = true;
    // The person asked meanwhile: what the round sends from now on is theirs.
    passiveRound &&= passive;
    return;
  }
  syncing = true;
  passiveRound = passive;
  try {
    let result;
    do {
      syncAgain = false;
      result = await outbox.flush({ passive: passiveRound });
    } while (syncAgain && result === "done");
    if (result === "signed-out") return authLost();
    if (["done", "unanswered"].includes(result)) state.serverDown = result === "unanswered";
    renderNetwork();
    const sentSomething = state.records.some((r) => r.state === "sent" && r.sentAt > state.dataAt);
    const stale = sentSomething || Date.now() - state.dataAt > DATA_MAX_AGE_MS;
    if (result === "done" && stale && !state.namingNow) await refreshData({ passive: passiveRound });
    // A decision awaited is looked for at each round (an unchanged list costs a 304).
    else if (result === "done" && state.proposals.some((p) => p.status === "pending")) await refreshProposals({ passive: passiveRound });
  } catch (error) {
    if (error instanceof outbox.SignedOut) authLost();
  } finally {
    syncing = false;
    document.body.dataset.syncRounds = String(++syncRounds);
  }
  clearTimeout(retryTimer);
  const next = await outbox.nextRetry();
  if (next) retryTimer = setTimeout(() => sync(BY_ITSELF), Math.max(1000, next - Date.now()));
}

// "Online" only says the tablet has a network: when the server took nothing at the last
// try, the pill says that instead.
export function renderNetwork() {
  const net = $("#net");
  const status = !navigator.onLine ? "offline" : state.serverDown ? "server-down" : "online";
  net.textContent = { offline: gettext("Offline"), "server-down": gettext("The server does not answer"), online: gettext("Online") }[status];
  net.className = `pill ${status}`;
}

// The worker asks to send now rather than at the next try (or the app, `passive`, as the
// network comes back).
export async function sendNow({ passive = false } = {}) {
  await outbox.retryNow();
  sync({ passive });
}

window.addEventListener("online", () => {
  renderNetwork();
  // The network is back: whatever waited goes now, not at its next try.
  sendNow(BY_ITSELF);
});
window.addEventListener("offline", renderNetwork);
setInterval(() => sync(BY_ITSELF), 30000);
