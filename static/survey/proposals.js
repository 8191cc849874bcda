// Closure proposals: a site that is gone is proposed for closing from its sheet; the worker's
// proposals and the managers' decisions are listed and kept for offline use.
import { apiGet } from "./api.js";
import { config } from "./config.js";
import * as db from "./db.js";
import { $, button } from "./dom.js";
import { day, fmt, gettext } from "./format.js";
import * as outbox from "./outbox.js";
import { nobodySignedIn } from "./signin.js";
import { state } from "./state.js";
import { sync } from "./sync.js";

// What became of a closure proposal: waiting, or the manager's decision, by whom, when and why.
export function proposalLine(proposal) {
  const line = document.createElement("div");
  line.className = `proposal-line proposal-${proposal.status}`;
  const what = document.createElement("strong");
  what.textContent = fmt(gettext("Closure proposed on %(day)s (%(reason)s): %(status)s"), {
    day: day(proposal.observed_at),
    reason: proposal.reason_label,
    status: config.proposalStatus[proposal.status] || proposal.status,
  });
  line.append(what);
  if (proposal.decided_at) {
    const who = document.createElement("div");
    who.className = "decided";
    who.textContent = fmt(gettext("Decided by %(name)s on %(day)s"), { name: proposal.decided_by || "–", day: day(proposal.decided_at) });
    line.append(who);
  }
  if (proposal.decision_note) {
    const why = document.createElement("div");
    why.className = "decision-note";
    why.textContent = fmt(gettext("Manager's note: %(note)s"), { note: proposal.decision_note });
    line.append(why);
  }
  return line;
}

export function renderProposals() {
  const list = $("#proposal-list");
  list.replaceChildren();
  if (!state.proposals.length) {
    list.append(Object.assign(document.createElement("li"), { textContent: gettext("No closure proposals yet.") }));
  }
  for (const proposal of state.proposals) {
    const item = document.createElement("li");
    item.className = "card proposal";
    item.dataset.id = proposal.id;
    item.dataset.status = proposal.status;
    const text = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = `${proposal.site_code} · ${proposal.site_name}`;
    text.append(title, proposalLine(proposal));
    if (proposal.note) text.append(Object.assign(document.createElement("span"), { className: "muted", textContent: proposal.note }));
    const chip = document.createElement("span");
    chip.className = `chip proposal-${proposal.status}`;
    chip.textContent = config.proposalStatus[proposal.status] || proposal.status;
    item.append(text, chip);
    list.append(item);
  }
}

// The worker's proposals and what managers decided, kept for offline use. Without a
// network or a session the kept ones stay (the site list's requests report a lost sign-in).
// `passive`: the app asks by itself.
export async function refreshProposals({ passive = false } = {}) {
  let proposals;
  try {
    proposals = (await apiGet(config.urls.proposals, { passive })).proposals;
  } catch {
    return;
  }
  state.proposals = proposals;
  await db.put("cache", { key: "proposals", value: proposals, at: Date.now() });
  renderProposals();
}

// A site that is gone (filled in, drained...): the worker proposes closing it, a manager decides.
export function proposeClosureButton(p) {
  const propose = button(gettext("Propose closing"), () => {
    if (nobodySignedIn()) return;
    const form = document.createElement("form");
    form.className = "actions";
    const reason = document.createElement("select");
    // No reason chosen for the worker: a tap on Send would propose "filled in" unread.
    const none = new Option(gettext("Choose the reason…"), "", true, true);
    none.disabled = true;
    reason.append(none, ...Object.entries(config.closeReasons).map(([value, label]) => new Option(label, value)));
    const note = Object.assign(document.createElement("input"), { placeholder: gettext("Note") });
    const send = Object.assign(document.createElement("button"), { className: "primary", textContent: gettext("Send proposal") });
    const missing = Object.assign(document.createElement("p"), { className: "form-errors" });
    form.append(reason, note, send, missing);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      missing.textContent = reason.value ? "" : gettext("Choose why the site should be closed.");
      if (!reason.value) return;
      const payload = { id: crypto.randomUUID(), site: p.id, reason: reason.value, note: note.value, observed_at: new Date().toISOString() };
      await outbox.add({ id: payload.id, type: "closure", label: p.name, payload, photos: [] });
      $("#site-sheet").hidden = true;
      sync();
    });
    propose.replaceWith(form);
  }, "propose-closure");
  return propose;
}
