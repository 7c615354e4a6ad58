// Bits shared by the player, host and screen pages.

import { h, fill, keyed, flip, setText } from "./dom.js";
import { t } from "./i18n.js";

// ---- storage (per room code) ------------------------------------------------

export const store = {
  get(key) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? null : JSON.parse(raw);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* private mode or full: the session still works, it just cannot resume */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

export const hostKey = (code) => `ritrovo.host.${code}`;
export const playerKey = (code) => `ritrovo.player.${code}`;

/** Rooms this device hosts: [{code, name, at}] newest first. */
export function rememberHostedRoom(code, name) {
  const list = (store.get("ritrovo.hosted") || []).filter((r) => r.code !== code);
  list.unshift({ code, name, at: Date.now() });
  store.set("ritrovo.hosted", list.slice(0, 8));
}

// ---- room codes ------------------------------------------------------------------

export function normalizeCode(raw) {
  return String(raw || "")
    .toUpperCase()
    .replace(/[\s-]/g, "");
}

export const CODE_RE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;

/** The room code in /r/CODE, /host/CODE, /screen/CODE. */
export function codeFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return normalizeCode(decodeURIComponent(parts[1] || ""));
}

export async function fetchRoom(code) {
  const response = await fetch(`/api/rooms/${encodeURIComponent(code)}`, { cache: "no-store" });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// ---- errors -------------------------------------------------------------------------

/** A human message for a protocol/HTTP error {code, message}, in the UI language. */
export function errorText(err) {
  if (!err) return "";
  const key = `err.${err.code}`;
  const text = t(key);
  return text === key ? t("common.error", { message: err.message || err.code }) : text;
}

// ---- live announcements (one polite and one assertive region per page) ---------------

export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? "sr-alert" : "sr-status");
  if (!region) return;
  // Clearing first makes screen readers repeat an identical message.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}

// ---- connection status pill -----------------------------------------------------------

export function connectionIndicator(el, socket) {
  let detail = {};
  let status = "connecting";
  let timer = null;
  const render = () => {
    el.dataset.status = status;
    const icon = { connected: "●", connecting: "◌", reconnecting: "◌", offline: "✕", closed: "✕" }[status] || "◌";
    let text = t(`conn.${status}`);
    if (status === "reconnecting" && detail.retryAt) {
      const s = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      if (s >= 1) text = t("conn.reconnecting_in", { s });
    }
    fill(el, h("span", { class: "conn-icon", "aria-hidden": "true" }, icon), h("span", { class: "conn-text" }, text));
    el.title = text;
  };
  const update = (next, info = {}) => {
    status = next;
    detail = info;
    clearInterval(timer);
    if (next === "reconnecting" && info.retryAt) timer = setInterval(render, 500);
    render();
  };
  document.addEventListener("langchange", render);
  el.addEventListener("click", () => {
    if (socket && (status === "reconnecting" || status === "offline")) socket._retryNow();
  });
  render();
  return update;
}

// ---- teams -----------------------------------------------------------------------------

const TEAM_COLOURS = 8;

/** A stable colour slot (0-7) per team id; colour is decoration only, names are always shown. */
export function teamSlot(teams, teamId) {
  const index = teams.findIndex((team) => team.id === teamId);
  return (index < 0 ? 0 : index) % TEAM_COLOURS;
}

export function teamName(state, teamId) {
  const team = state && state.teams ? state.teams.find((x) => x.id === teamId) : null;
  return team ? team.name : "";
}

export function playerName(state, playerId) {
  if (!state || !playerId) return "";
  for (const team of state.teams || []) {
    for (const p of team.players) if (p.id === playerId) return p.name;
  }
  return "";
}

/** Teams in room order (state.teams is ranked). */
export function teamsInRoomOrder(state) {
  return [...(state.teams || [])].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
}

// ---- moments ---------------------------------------------------------------------------

export function momentText(state, m) {
  const team = teamName(state, m.team_id);
  const name = m.text || playerName(state, m.player_id);
  const params = { team, name, text: m.text, n: m.text };
  const key = `moment.${m.kind}`;
  const text = t(key, params);
  return text === key ? m.kind : text;
}

export const momentKey = (m) => `${m.seq}:${m.kind}:${m.team_id}:${m.player_id}`;

// ---- scoreboard --------------------------------------------------------------------------

/**
 * Ranked scoreboard rows, keyed by team id, animated with FLIP when the order
 * changes (and not at all with prefers-reduced-motion).
 */
export function renderScoreboard(list, state, { myTeam = null, players = true, big = false } = {}) {
  const teams = state.teams || [];
  const done = flip(list);
  keyed(
    list,
    teams,
    (team) => team.id,
    (team) => JSON.stringify([team, myTeam, players, teams.length, t("common.you")]),
    (team) => {
      const slot = teamSlot(teamsInRoomOrder(state), team.id);
      const mine = team.id === myTeam;
      return h(
        "li",
        { class: ["score-row", `team-${slot}`, mine && "mine", big && "big"] },
        h("span", { class: "score-rank", "aria-label": t("common.rank", { n: team.rank }) }, t("common.rank", { n: team.rank })),
        h(
          "span",
          { class: "score-team" },
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          h("span", { class: "score-name" }, team.name),
          mine ? h("span", { class: "tag" }, t("common.you")) : null,
          players && team.players.length
            ? h(
                "span",
                { class: "score-players" },
                team.players.map((p, i) => [i ? ", " : "", h("span", { class: p.present ? "" : "away" }, p.name)]),
              )
            : null,
        ),
        h(
          "span",
          { class: "score-points" },
          h("span", { class: "score-value" }, String(team.score)),
          team.delta > 0 ? h("span", { class: "score-delta" }, `+${team.delta}`) : null,
        ),
      );
    },
  );
  done();
}

/** The "connected/away" marker for a player, as icon + text (never colour alone). */
export function presence(p) {
  return h(
    "span",
    { class: ["presence", p.present ? "here" : "away"] },
    h("span", { "aria-hidden": "true" }, p.present ? "●" : "○"),
    h("span", { class: "visually-hidden" }, p.present ? t("common.online") : t("common.away")),
  );
}

export function verdictBadge(verdict, acceptedByHost = false) {
  const icon = { correct: "✓", near: "≈", wrong: "✗" }[verdict] || "?";
  return h(
    "span",
    { class: ["verdict", `verdict-${verdict}`] },
    h("span", { class: "verdict-icon", "aria-hidden": "true" }, icon),
    h("span", { class: "verdict-text" }, acceptedByHost ? t("verdict.accepted") : t(`verdict.${verdict}`)),
  );
}

export { setText };

// ---- confirmation (an in-page <dialog>, not window.confirm) ---------------------------

let dialogCount = 0;

/** Resolves true when the user confirms. Keyboard: Tab between buttons, Esc cancels. */
export function askConfirm(message, okLabel) {
  return new Promise((resolve) => {
    const id = `confirm-${++dialogCount}`;
    const dlg = h(
      "dialog",
      { class: "confirm-dialog", "aria-labelledby": id },
      h(
        "form",
        { method: "dialog", class: "stack" },
        h("p", { id, class: "confirm-message" }, message),
        h(
          "div",
          { class: "row confirm-actions" },
          h("button", { class: "btn", value: "cancel", type: "submit" }, t("common.cancel")),
          h("button", { class: "btn btn-danger", value: "ok", type: "submit" }, okLabel || t("host.done")),
        ),
      ),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "ok");
      dlg.remove();
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    dlg.querySelector('button[value="cancel"]').focus();
  });
}

// ---- toast --------------------------------------------------------------------------------

let toastTimer = null;

export function toast(text, { bad = false } = {}) {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", class: "toast", role: "status" });
    document.body.appendChild(el);
  }
  el.className = bad ? "toast bad" : "toast";
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

// ---- story text (player, host and screen) ----------------------------------------------------

/**
 * A story as text nodes: the opening (when visible), then every line with its
 * writer. Hidden lines show a placeholder (the host still sees their text,
 * struck through, with a button from `lineAction`).
 */
export function storyText(entry, state, { lineAction = null, writers = true, className = "story" } = {}) {
  const names = new Map((entry.writers || []).map((w) => [w.id, w.name]));
  const nameOf = (id) => names.get(id) || playerName(state, id);
  const prompt = entry.prompt || {};
  return h(
    "div",
    { class: className },
    prompt.opening ? h("p", { class: "story-opening" }, prompt.opening) : null,
    h(
      "ol",
      { class: "story-lines" },
      (entry.lines || []).map((line) => {
        if (line.hidden && line.text === undefined) {
          return h("li", { class: "line-hidden" }, t("story.hidden_line"));
        }
        const body = h(
          "span",
          { class: "story-text" },
          line.text,
          writers ? h("span", { class: "line-writer" }, nameOf(line.player_id), line.hidden ? ` · ${t("host.hidden_tag")}` : "") : null,
        );
        if (!lineAction) return h("li", {}, body);
        return h("li", { class: ["line-admin", line.hidden && "is-hidden"] }, body, lineAction(line));
      }),
    ),
  );
}

export function promptMeta(prompt) {
  if (!prompt) return null;
  const words = prompt.must_include || [];
  return h(
    "div",
    { class: "prompt-meta" },
    prompt.theme ? h("span", { class: "pill" }, t("story.theme", { theme: prompt.theme })) : null,
    words.length
      ? h(
          "span",
          { class: "small" },
          t("story.must_include", { words: "" }),
          words.map((w) => [" ", h("span", { class: "word-chip" }, w)]),
        )
      : null,
  );
}

// ---- server notices ---------------------------------------------------------

// The page-wide banner for a connection in trouble, shown only while ``active()``
// (the player's game view, the console) so the join form stays uncluttered.
export function connectionBanner(el, active) {
  return (status) => {
    const trouble = active() && (status === "reconnecting" || status === "offline");
    el.hidden = !trouble;
    if (trouble) el.textContent = status === "offline" ? t("conn.offline") : t("conn.reconnecting");
  };
}

// The server says when its store (Redis) is unreachable and when it is back:
// the game is paused meanwhile, and people should know it is not their network.
export function noticeBanner(el) {
  return (msg) => {
    if (msg.code === "store_unavailable") {
      el.textContent = t("notice.paused");
      el.hidden = false;
    } else if (msg.code === "store_available") {
      el.hidden = true;
    }
  };
}
