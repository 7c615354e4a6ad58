// Circles on the player's phone: the device token this browser keeps for a
// circle (sent in `join`, so the circle knows a returning colleague), and a
// small card: what the circle remembers about you, and "forget me".
//
// One token per circle, made here and kept in localStorage: circles cannot
// be linked to each other by it. The server keeps only its hash. What the
// circle remembers is listed per session: whom you met, your team-mates and,
// once the session's keepsake is kept, your lines of it (your team's place,
// the stories you wrote in, your "Who's who" answers, how many new colleagues
// you met). Everything people typed is set as text.

import { byId, h, show, setText } from "../dom.js";
import { lang, t } from "../i18n.js";
import { askConfirm, store, toast } from "../common.js";

/** @typedef {{id: string, name: string}} CircleRef */

/**
 * A member's lines of a session's kept keepsake (each key only when there is something to say).
 * @typedef {object} CircleKeepsake
 * @property {{rank: number, team: string, score: number, points: number}} [podium]
 * @property {{round: string, team: string, lines?: string[]}[]} [stories]
 * @property {{round: string, prompt: string, answer: string, line: string}[]} [whoswho]
 * @property {number} [met]
 */

/**
 * What `GET /api/circles/ID/me` answers.
 * @typedef {object} CircleMemory
 * @property {{id: string, name: string, first_seen: number, last_seen: number}} member
 * @property {{room: string, started_at: number, name?: string, met: string[], team_mates: string[], keepsake?: CircleKeepsake}[]} sessions
 */

/**
 * The lines of a session's keepsake that are the member's, one item each.
 * @param {CircleKeepsake} kept
 * @returns {HTMLElement[]}
 */
function keepsakeLines(kept) {
  const lines = [];
  const podium = kept.podium;
  if (podium) lines.push(h("li", {}, t("circle.kept_podium", { rank: podium.rank, team: podium.team, score: podium.score, points: podium.points })));
  for (const story of kept.stories || []) {
    // The lines they wrote, as they wrote them: what "forget me" would take away.
    const own = (story.lines || []).map((text) => h("li", {}, `“${text}”`));
    lines.push(h("li", {}, t("circle.kept_story", { round: story.round, team: story.team }), own.length ? h("ul", { class: "circle-kept-lines" }, ...own) : null));
  }
  for (const fact of kept.whoswho || []) {
    lines.push(h("li", {}, t("circle.kept_fact", { prompt: fact.prompt, answer: fact.answer }), fact.line ? ` · “${fact.line}”` : ""));
  }
  if (typeof kept.met === "number") lines.push(h("li", {}, t("circle.kept_met", { n: kept.met })));
  return lines;
}

/** @param {string} id */
const deviceKey = (id) => `ritrovo.circle.${id}`;

/**
 * This browser's token for a circle, made the first time it is needed.
 * @param {string} id
 * @returns {string}
 */
export function deviceToken(id) {
  /** @type {string | null} */
  const kept = store.get(deviceKey(id));
  if (kept && /^[A-Za-z0-9_-]{22,64}$/.test(kept)) return kept;
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  store.set(deviceKey(id), token);
  return token;
}

/**
 * @param {string} id
 * @param {"GET" | "DELETE"} method
 */
async function callMe(id, method) {
  const token = store.get(deviceKey(id));
  if (typeof token !== "string") return null;
  return fetch(`/api/circles/${encodeURIComponent(id)}/me`, {
    method,
    cache: "no-store",
    headers: { "X-Device-Token": token },
  });
}

export class CircleCard {
  constructor() {
    /** @type {CircleRef | null} */
    this.circle = null;
    byId("circle-show").addEventListener("click", () => this.showMemory());
    byId("circle-forget").addEventListener("click", () => this.forget());
  }

  /** @param {CircleRef | null | undefined} circle the room's circle (null: none) */
  set(circle) {
    this.circle = circle || null;
    this.render();
  }

  render() {
    const card = byId("circle-card");
    show(card, !!this.circle);
    if (!this.circle) return;
    setText(byId("circle-title"), t("circle.title", { name: this.circle.name }));
  }

  async showMemory() {
    if (!this.circle) return;
    const list = byId("circle-memory");
    list.replaceChildren();
    let response = null;
    try {
      response = await callMe(this.circle.id, "GET");
    } catch {
      toast(t("circle.error"), { bad: true });
      return;
    }
    if (!response || !response.ok) {
      list.append(h("li", {}, t("circle.nothing")));
      show(list, true);
      return;
    }
    /** @type {CircleMemory} */
    const memory = await response.json();
    list.append(h("li", {}, t("circle.known_as", { name: memory.member.name })));
    for (const session of memory.sessions) {
      const day = new Date(session.started_at * 1000).toLocaleDateString(lang);
      const parts = [];
      if (session.met.length) parts.push(t("circle.met", { names: session.met.join(", ") }));
      if (session.team_mates.length) parts.push(t("circle.team_mates", { names: session.team_mates.join(", ") }));
      const kept = session.keepsake ? keepsakeLines(session.keepsake) : [];
      list.append(
        h(
          "li",
          {},
          parts.length ? `${day}: ${parts.join("; ")}` : day,
          kept.length ? h("ul", { class: "circle-keepsake small", "aria-label": t("circle.kept") }, ...kept) : null,
        ),
      );
    }
    if (!memory.sessions.length) list.append(h("li", {}, t("circle.no_sessions")));
    show(list, true);
  }

  async forget() {
    if (!this.circle) return;
    const ok = await askConfirm(t("circle.forget_confirm", { name: this.circle.name }), t("circle.forget"));
    if (!ok) return;
    let response = null;
    try {
      response = await callMe(this.circle.id, "DELETE");
    } catch {
      toast(t("circle.error"), { bad: true });
      return;
    }
    // Forgotten, or never remembered: either way this browser starts afresh.
    store.remove(deviceKey(this.circle.id));
    byId("circle-memory").replaceChildren();
    show(byId("circle-memory"), false);
    toast(response && response.ok ? t("circle.forgotten") : t("circle.nothing"));
  }
}
