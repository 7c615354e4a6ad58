// The host console (/host/CODE): room, pack, teams, and running the game.
// This module owns the page's state, sends the host's commands and turns
// server messages into renders; host/*.js render each part of the console.

import { byId, fill, show, setText } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { mountIcons } from "./icons.js";
import { ERROR } from "./protocol.js";
import { RoomPage } from "./room_page.js";
import { askConfirm, codeFromPath, copyFrom, errorText, fetchRoom, hostKey, rememberHostedRoom, renderScoreboard, store, toast } from "./common.js";
import { download, renderRoom } from "./host/room.js";
import { loadPacks, renderPack, uploadPack } from "./host/pack.js";
import { renderControls } from "./host/controls.js";
import { RiddlePanel } from "./host/riddle.js";
import { renderStoryPanel } from "./host/story.js";
import { renderTeams } from "./host/teams.js";
import { renderMoments } from "./host/moments.js";
import { PairingPanel } from "./host/pairing.js";
import { WhosWhoPanel } from "./host/whoswho.js";

/** @import { PackSummary, RoomInfo, RoomState, WireError } from "./types.js" */

const code = codeFromPath();
const S = {
  /** @type {string} the host token */
  token: "",
  /** @type {RoomInfo | null} */
  info: null,
  /** @type {PackSummary[]} */
  packs: [],
  /** @type {RoomState | null} */
  state: null,
  seq: -1,
  /** @type {{seq: number, acked: boolean} | null} while a game command is in flight */
  busy: null,
};

const page = new RoomPage({
  views: { token: byId("token-view"), message: byId("message-view"), console: byId("console") },
  liveView: "console",
  message: { view: "message", icon: byId("message-icon"), title: byId("message-title"), text: byId("message-text") },
});
const pairing = new PairingPanel();
const whoswho = new WhosWhoPanel((type, fields = {}) => command(type, fields));
const riddle = new RiddlePanel((team, guess) => command("accept_guess", { team: team.id, guess: guess.index }, { game: true }));

// ---- token and views ----------------------------------------------------------------------------

/** @returns {string | null} */
function readToken() {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromHash = hash.get("token");
  if (fromHash) {
    store.set(hostKey(code), fromHash);
    // Keep the token out of the address bar (and out of screen shares).
    history.replaceState(null, "", location.pathname + location.search);
    return fromHash;
  }
  return store.get(hostKey(code));
}

function showTokenForm(error = "") {
  page.showView("token");
  const el = byId("token-error");
  el.textContent = error;
  show(el, !!error);
  byId("token-input").focus();
}

/**
 * @param {"closed" | "missing"} kind
 * @param {string} [detail]
 */
function showMessage(kind, detail = "") {
  riddle.stop();
  page.showMessage(() => ({
    icon: kind === "closed" ? "wave" : "search",
    title: kind === "closed" ? t("host.closed") : t("join.room_missing", { code }),
    text: detail,
  }));
}

// ---- connection ------------------------------------------------------------------------------------

function connect() {
  page.connect({
    hello: () => ({ type: "host", room: code, token: S.token }),
    onWelcome: () => {
      rememberHostedRoom(code, S.info ? S.info.name : "");
      if (page.view !== "console") page.showView("console");
    },
    onState: (state, seq) => {
      S.state = state;
      S.seq = seq;
      if (S.busy && S.busy.acked && seq > S.busy.seq) S.busy = null;
      render();
    },
    onFatal: (err) => {
      if (err.code === ERROR.BAD_HOST_TOKEN) {
        store.remove(hostKey(code));
        showTokenForm(t("err.bad_host_token"));
      } else if (err.code === ERROR.ROOM_CLOSED) {
        showMessage("closed");
      } else {
        showMessage("missing", errorText(err));
      }
    },
  });
}

/**
 * A command to the server; game commands block the controls until their state arrives.
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 * @param {{game?: boolean}} [options]
 * @returns {Promise<unknown>} the ack's result, or null when refused (the error is shown)
 */
async function command(type, fields = {}, { game = false } = {}) {
  const socket = page.socket;
  if (!socket) return null;
  if (game) {
    if (S.busy) return null;
    S.busy = { seq: S.seq, acked: false };
    renderGameControls();
  }
  const errorEl = byId("game-error");
  try {
    const result = await socket.request(type, fields);
    if (game && S.busy) {
      S.busy.acked = true;
      if (S.seq > S.busy.seq) S.busy = null;
      // Safety net: never leave the controls blocked.
      const mine = S.busy;
      setTimeout(() => {
        if (S.busy === mine) {
          S.busy = null;
          renderGameControls();
        }
      }, 4000);
    }
    show(errorEl, false);
    return result;
  } catch (e) {
    const err = /** @type {WireError} */ (e);
    if (game) S.busy = null;
    errorEl.textContent = errorText(err);
    show(errorEl, true);
    toast(errorText(err), { bad: true });
    return null;
  } finally {
    if (game) renderGameControls();
  }
}

// ---- rendering --------------------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st || page.view !== "console") return;
  setText(byId("room-title"), st.name);
  document.title = `${st.name} · ${t("host.title")}`;
  if (st.phase === "closed") {
    showMessage("closed");
    return;
  }
  renderRoom(st, S.info, S.token);
  renderPack(st, S.packs);
  renderControls(st, !!S.busy);
  pairing.render(st);
  riddle.render(st, st.phase === "riddle" ? st.riddle : null);
  renderStory(st);
  whoswho.render(st, st.phase === "whoswho" ? st.whoswho || null : null);
  renderTeams(st, command);
  show(byId("btn-mix-teams"), st.phase === "lobby");
  renderScoreboard(byId("scoreboard"), st, { players: false });
  show(byId("final-panel"), st.phase === "finished");
  if (st.phase === "finished") renderScoreboard(byId("final-scoreboard"), st, { players: true });
  renderMoments(st);
}

function renderGameControls() {
  if (S.state) renderControls(S.state, !!S.busy);
}

/** @param {RoomState} st */
function renderStory(st) {
  renderStoryPanel(st, st.phase === "story" ? st.story : null, (story, line) =>
    command("hide_line", { team: story.team_id, line: line.index, hidden: !line.hidden }),
  );
}

// ---- start ---------------------------------------------------------------------------------------------------

function wire() {
  byId("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = byId("token-input", HTMLInputElement).value.trim();
    if (!token) return;
    S.token = token;
    store.set(hostKey(code), token);
    page.showView("console");
    connect();
  });
  /** @type {[string, string, Record<string, unknown>][]} button, command, fields */
  const gameButtons = [
    ["btn-next", "next", {}],
    ["btn-pause", "pause", {}],
    ["btn-resume", "resume", {}],
    ["btn-extend", "extend", { seconds: 30 }],
    ["btn-reveal", "reveal", {}],
    ["btn-skip", "skip", {}],
    ["btn-end-writing", "end_writing", {}],
    ["btn-close-voting", "close_voting", {}],
  ];
  for (const [id, type, fields] of gameButtons) {
    byId(id).addEventListener("click", () => command(type, fields, { game: true }));
  }
  byId("btn-finish").addEventListener("click", async () => {
    if (await askConfirm(t("host.finish_confirm"), t("host.finish"))) command("finish", {}, { game: true });
  });
  byId("btn-close-room").addEventListener("click", async () => {
    if (await askConfirm(t("host.close_confirm"), t("host.close_room"))) command("close");
  });
  pairing.wire((type, fields = {}) => command(type, fields));
  const autoToggle = byId("auto-toggle", HTMLInputElement);
  autoToggle.addEventListener("change", () => command("auto_advance", { enabled: autoToggle.checked }));
  const lockToggle = byId("lock-toggle", HTMLInputElement);
  lockToggle.addEventListener("change", () => command("lock", { locked: lockToggle.checked }));
  byId("btn-choose-pack").addEventListener("click", async () => {
    const pack = byId("pack-select", HTMLSelectElement).value;
    if (pack && (await command("choose_pack", { pack })) !== null) {
      fill(byId("upload-result"));
    }
  });
  byId("pack-editor-link", HTMLAnchorElement).href = `/editor?room=${encodeURIComponent(code)}`;
  byId("upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    uploadPack(code, S.token);
  });
  // "Mix teams" (lobby): everyone dealt afresh; in a circle, past team-mates apart.
  byId("btn-mix-teams").addEventListener("click", async () => {
    if (await command("mix_teams")) toast(t("host.mix_teams_done"));
  });
  byId("team-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = byId("team-name", HTMLInputElement);
    const name = input.value.trim();
    if (!name) return;
    const result = await command("create_team", { name });
    if (result) input.value = "";
  });
  for (const button of document.querySelectorAll("[data-copy]")) {
    if (button instanceof HTMLElement) button.addEventListener("click", () => copyFrom(button.dataset.copy || "", button));
  }
  for (const button of document.querySelectorAll("[data-download]")) {
    if (button instanceof HTMLElement) button.addEventListener("click", () => download(code, S.token, button.dataset.download || ""));
  }
  document.addEventListener("langchange", render);
  // Story turn timers tick every second on the console.
  setInterval(() => {
    if (page.view === "console" && S.state && S.state.phase === "story") renderStory(S.state);
  }, 1000);
}

async function main() {
  initI18n();
  mountIcons();
  wire();
  loadPacks().then((packs) => {
    S.packs = packs;
    if (S.state) renderPack(S.state, packs);
  });
  try {
    S.info = await fetchRoom(code);
  } catch {
    S.info = null;
  }
  const token = readToken();
  if (!token) {
    showTokenForm();
    return;
  }
  S.token = token;
  page.showView("console");
  connect();
}

main();
