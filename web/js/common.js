// Bits shared by the landing page and the player, host and screen pages
// (room_page.js holds what only the three room pages share).

import { byId, h, keyed, flip, setText } from "./dom.js";
import { t } from "./i18n.js";
import { CODE_ALPHABET, CODE_LENGTH } from "./protocol.js";

/** @import { Moment, RoomInfo, RoomState, StoryLine, StoryPrompt, Team, Verdict, WireError } from "./types.js" */

// ---- storage (per room code) ------------------------------------------------

export const store = {
  /**
   * What was saved under key (by this client: the type is the caller's word for it).
   * @template T
   * @param {string} key
   * @returns {T | null}
   */
  get(key) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? null : JSON.parse(raw);
    } catch {
      return null;
    }
  },
  /**
   * @param {string} key
   * @param {unknown} value
   */
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* private mode or full: the session still works, it just cannot resume */
    }
  },
  /** @param {string} key */
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

/** @param {string} code the key of a room's host token */
export const hostKey = (code) => `ritrovo.host.${code}`;
/** @param {string} code the key of a player's session in a room ({@link PlayerSession}) */
export const playerKey = (code) => `ritrovo.player.${code}`;
/** @param {string} code the key of a player's resume token kept for the session's keepsake after the room closed */
export const keepsakeKey = (code) => `ritrovo.keepsake.${code}`;

/**
 * What a player's device keeps to come back to a room.
 * @typedef {{token: string, player_id: string, name: string}} PlayerSession
 */

/**
 * A room this device hosts.
 * @typedef {{code: string, name: string, at: number}} HostedRoom
 */

/** @returns {HostedRoom[]} newest first */
export function hostedRooms() {
  return store.get("ritrovo.hosted") || [];
}

/**
 * Remember a room this device hosts (the landing page lists them).
 * @param {string} code
 * @param {string} name
 */
export function rememberHostedRoom(code, name) {
  const list = hostedRooms().filter((r) => r.code !== code);
  list.unshift({ code, name, at: Date.now() });
  store.set("ritrovo.hosted", list.slice(0, 8));
}

// ---- room codes ------------------------------------------------------------------

/** @param {unknown} raw */
export function normalizeCode(raw) {
  return String(raw || "")
    .toUpperCase()
    .replace(/[\s-]/g, "");
}

/** A well-formed room code (normalized: see normalizeCode). */
export const CODE_RE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);

/** The room code in /r/CODE, /host/CODE, /screen/CODE. */
export function codeFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return normalizeCode(decodeURIComponent(parts[1] || ""));
}

/**
 * GET /api/rooms/CODE: null when there is no such room.
 * @param {string} code
 * @returns {Promise<RoomInfo | null>}
 */
export async function fetchRoom(code) {
  const response = await fetch(`/api/rooms/${encodeURIComponent(code)}`, { cache: "no-store" });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// ---- errors -------------------------------------------------------------------------

/**
 * The error of a refused HTTP call: the body's `error`, else one named by the status
 * (`http_503`: a proxy's page, or a body that was no JSON).
 * @param {unknown} body the response's JSON body, or `{}` when it had none
 * @param {Response} response
 * @returns {WireError}
 */
export function refusalOf(body, response) {
  const err = body && typeof body === "object" ? /** @type {{error?: WireError}} */ (body).error : undefined;
  const found = err && typeof err === "object" ? err : /** @type {Partial<WireError>} */ ({});
  return { ...found, code: String(found.code || `http_${response.status}`), message: String(found.message || response.statusText) };
}

/**
 * A human message for a protocol/HTTP error {code, message}, in the UI language.
 * @param {WireError | null | undefined} err
 */
export function errorText(err) {
  if (!err) return "";
  const key = `err.${err.code}`;
  const text = t(key);
  return text === key ? t("common.error", { message: err.message || err.code }) : text;
}

// ---- live announcements (one polite and one assertive region per page) ---------------

/**
 * @param {string} text
 * @param {{assertive?: boolean}} [options]
 */
export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? "sr-alert" : "sr-status");
  if (!region) return;
  // Clearing first makes screen readers repeat an identical message.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}

// ---- copy to the clipboard ---------------------------------------------------------

/**
 * Copy a link (or a text area's text) to the clipboard, and say so on the button.
 * @param {string} inputId
 * @param {HTMLElement} button
 */
export async function copyFrom(inputId, button) {
  const field = byId(inputId);
  // A one-line input (links) or a textarea (the coffee pairing's breakout rooms).
  const input = field instanceof HTMLTextAreaElement ? field : byId(inputId, HTMLInputElement);
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
  }
  if (ok) {
    setText(button, t("common.copied"));
    announce(t("common.copied"));
    setTimeout(() => setText(button, t("common.copy")), 1500);
  } else {
    input.select();
  }
}

// ---- teams -----------------------------------------------------------------------------

const TEAM_COLOURS = 8;

/**
 * A stable colour slot (0-7) per team id; colour is decoration only, names are always shown.
 * @param {{id: string}[]} teams in room order
 * @param {string | null | undefined} teamId
 */
export function teamSlot(teams, teamId) {
  const index = teams.findIndex((team) => team.id === teamId);
  return (index < 0 ? 0 : index) % TEAM_COLOURS;
}

/**
 * @param {RoomState | null} state
 * @param {string | null | undefined} teamId
 */
export function teamName(state, teamId) {
  const team = state && state.teams ? state.teams.find((x) => x.id === teamId) : null;
  return team ? team.name : "";
}

/**
 * @param {RoomState | null} state
 * @param {string | null | undefined} playerId
 */
export function playerName(state, playerId) {
  if (!state || !playerId) return "";
  for (const team of state.teams || []) {
    for (const p of team.players) if (p.id === playerId) return p.name;
  }
  return "";
}

/**
 * Teams in room order (state.teams is ranked).
 * @param {RoomState} state
 * @returns {Team[]}
 */
export function teamsInRoomOrder(state) {
  return [...(state.teams || [])].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
}

// ---- moments ---------------------------------------------------------------------------

/**
 * @param {RoomState} state
 * @param {Moment} m
 */
export function momentText(state, m) {
  const team = teamName(state, m.team_id);
  const name = m.text || playerName(state, m.player_id);
  const params = { team, name, text: m.text, n: m.text };
  const key = `moment.${m.kind}`;
  const text = t(key, params);
  return text === key ? m.kind : text;
}

/** @param {Moment} m */
export const momentKey = (m) => `${m.seq}:${m.kind}:${m.team_id}:${m.player_id}`;

// ---- scoreboard --------------------------------------------------------------------------

/**
 * Ranked scoreboard rows, keyed by team id, animated with FLIP when the order
 * changes (and not at all with prefers-reduced-motion).
 *
 * @param {HTMLElement} list
 * @param {RoomState} state
 * @param {{myTeam?: string | null, players?: boolean, big?: boolean}} [options]
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

/**
 * The "connected/away" marker for a player, as icon + text (never colour alone).
 * @param {{present: boolean}} p
 */
export function presence(p) {
  return h(
    "span",
    { class: ["presence", p.present ? "here" : "away"] },
    h("span", { "aria-hidden": "true" }, p.present ? "●" : "○"),
    h("span", { class: "visually-hidden" }, p.present ? t("common.online") : t("common.away")),
  );
}

/**
 * @param {Verdict} verdict
 * @param {boolean} [acceptedByHost]
 */
export function verdictBadge(verdict, acceptedByHost = false) {
  const icon = VERDICT_ICONS[verdict] || "?";
  return h(
    "span",
    { class: ["verdict", `verdict-${verdict}`] },
    h("span", { class: "verdict-icon", "aria-hidden": "true" }, icon),
    h("span", { class: "verdict-text" }, acceptedByHost ? t("verdict.accepted") : t(`verdict.${verdict}`)),
  );
}

/** @type {Record<string, string>} */
const VERDICT_ICONS = { correct: "✓", near: "≈", wrong: "✗" };

export { setText };

// ---- confirmation (an in-page <dialog>, not window.confirm) ---------------------------

let dialogCount = 0;

/**
 * Resolves true when the user confirms. Keyboard: Tab between buttons, Esc cancels.
 * @param {string} message
 * @param {string} [okLabel]
 * @returns {Promise<boolean>}
 */
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
    const cancel = dlg.querySelector('button[value="cancel"]');
    if (cancel instanceof HTMLElement) cancel.focus();
  });
}

// ---- toast --------------------------------------------------------------------------------

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/**
 * @param {string} text
 * @param {{bad?: boolean}} [options]
 */
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
 *
 * @param {{lines?: StoryLine[], writers?: {id: string, name: string}[], prompt?: {opening?: string}}} entry
 * @param {RoomState} state
 * @param {{lineAction?: ((line: StoryLine) => HTMLElement) | null, writers?: boolean, className?: string}} [options]
 */
export function storyText(entry, state, { lineAction = null, writers = true, className = "story" } = {}) {
  const names = new Map((entry.writers || []).map((w) => [w.id, w.name]));
  /** @param {string | undefined} id */
  const nameOf = (id) => (id && names.get(id)) || playerName(state, id);
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

/** @param {StoryPrompt | undefined} prompt */
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
