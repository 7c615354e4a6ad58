// Circles on the player's phone: the device token this browser keeps for a
// circle (sent in `join`, so the circle knows a returning colleague), and a
// small card: what the circle remembers about you, and "forget me".
//
// One token per circle, made here and kept in localStorage: circles cannot
// be linked to each other by it. The server keeps only its hash.

import { byId, h, show, setText } from "../dom.js";
import { t } from "../i18n.js";
import { askConfirm, store, toast } from "../common.js";

/** @typedef {{id: string, name: string}} CircleRef */

/**
 * What `GET /api/circles/ID/me` answers.
 * @typedef {object} CircleMemory
 * @property {{id: string, name: string, first_seen: number, last_seen: number}} member
 * @property {{room: string, started_at: number, met: string[], team_mates: string[]}[]} sessions
 */

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
      const day = new Date(session.started_at * 1000).toLocaleDateString();
      const parts = [];
      if (session.met.length) parts.push(t("circle.met", { names: session.met.join(", ") }));
      if (session.team_mates.length) parts.push(t("circle.team_mates", { names: session.team_mates.join(", ") }));
      list.append(h("li", {}, `${day}: ${parts.join("; ")}`));
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
