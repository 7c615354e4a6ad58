// The player's page (/r/CODE): join, then follow the game on a phone.
// This module owns the page's state and turns server messages into renders;
// player/*.js render each phase.

import { byId, show, setText } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { mountIcons } from "./icons.js";
import { ERROR } from "./protocol.js";
import { RoomPage } from "./room_page.js";
import {
  CODE_RE,
  askConfirm,
  codeFromPath,
  errorText,
  fetchRoom,
  keepsakeKey,
  normalizeCode,
  playerKey,
  renderScoreboard,
  store,
  toast,
} from "./common.js";
import { renderMeBar } from "./player/me_bar.js";
import { pickedTeam, renderJoin, setJoinError, setJoining } from "./player/join.js";
import { renderLobby } from "./player/lobby.js";
import { RiddleView } from "./player/riddle.js";
import { StoryView } from "./player/story.js";
import { renderBetween, renderFinished } from "./player/ends.js";
import { PairingCard, renderMentoring, wireMentoring } from "./player/pairing.js";
import { WhosWhoView } from "./player/whoswho.js";
import { CircleCard, deviceToken } from "./player/circle.js";

/** @import { PlayerRef, RoomInfo, RoomState, WireError, YouMessage } from "./types.js" */
/** @import { PlayerSession } from "./common.js" */
/** @import { Me } from "./player/me_bar.js" */

/** @typedef {"not_found" | "closed" | "kicked" | "left" | "error"} MessageKind */

const code = codeFromPath();

const S = {
  /** @type {RoomInfo | null} GET /api/rooms/CODE, for the join form */
  info: null,
  /** @type {RoomState | null} */
  state: null,
  /** @type {YouMessage | null} */
  you: null,
  /** @type {{id: string, name: string, team_id?: string} | null} */
  me: null,
  /** @type {{name: string, team: string | null} | null} while a join is in flight */
  joining: null,
};

const page = new RoomPage({
  views: { join: byId("view-join"), message: byId("view-message"), game: byId("view-game") },
  liveView: "game",
  message: { view: "message", icon: byId("message-emoji"), title: byId("message-title"), text: byId("message-text") },
});
const socket = () => page.socket;
const riddle = new RiddleView(socket);
const story = new StoryView(socket);
const pairing = new PairingCard();
const whoswho = new WhosWhoView(socket);
const circleCard = new CircleCard();

/** @returns {PlayerSession | null} */
const session = () => store.get(playerKey(code));

/** @returns {Me} */
function me() {
  return {
    id: (S.me && S.me.id) || (session() || { player_id: null }).player_id || null,
    name: (S.me && S.me.name) || "",
    teamId: (S.you && S.you.player && S.you.player.team_id) || (S.me && S.me.team_id) || null,
    you: S.you,
  };
}

// ---- views -------------------------------------------------------------------------------

/** @type {Record<MessageKind, string>} */
const MESSAGE_ICONS = { not_found: "search", closed: "wave", kicked: "door", left: "wave", error: "alert" };

/**
 * A message instead of the game.
 * @param {MessageKind} kind
 * @param {string} [detail]
 */
function showMessage(kind, detail = "") {
  riddle.stop();
  story.stop();
  whoswho.stop();
  page.showMessage(() => {
    const action = byId("message-action");
    const canJoin = kind === "left" || kind === "kicked";
    show(action, canJoin);
    if (canJoin) setText(action, t("player.join_again"));
    show(byId("code-form"), kind === "not_found" || kind === "closed" || kind === "error");
    const keepsake = byId("message-keepsake", HTMLAnchorElement);
    show(keepsake, kind === "closed" && !!store.get(keepsakeKey(code)));
    keepsake.href = `/keepsake/${encodeURIComponent(code)}`;
    const titles = {
      not_found: t("join.room_missing", { code: code || "?" }),
      closed: t("closed.title"),
      kicked: t("err.kicked"),
      left: t("player.left"),
      error: t("common.error", { message: detail }),
    };
    return { icon: MESSAGE_ICONS[kind] || "alert", title: titles[kind] || "", text: kind === "closed" ? t("err.room_closed") : "" };
  });
}

// ---- joining ------------------------------------------------------------------------------

async function openJoin(errorMessage = "") {
  page.showView("join");
  setText(byId("join-heading"), t("join.title", { code }));
  try {
    S.info = await fetchRoom(code);
  } catch {
    S.info = null;
    showMessage("error", "network");
    return;
  }
  if (!S.info) {
    showMessage("not_found");
    return;
  }
  if (S.info.phase === "closed") {
    showMessage("closed");
    return;
  }
  setText(byId("room-title"), S.info.name);
  document.title = `${S.info.name} · Ritrovo`;
  renderJoin(S.info, code);
  setJoinError(errorMessage || (S.info.locked ? t("join.locked") : ""));
  const name = byId("join-name", HTMLInputElement);
  if (!name.value) name.focus();
}

/** @param {SubmitEvent} event */
function onJoinSubmit(event) {
  event.preventDefault();
  const input = byId("join-name", HTMLInputElement);
  const name = input.value.trim();
  if (!name) {
    setJoinError(t("err.empty_name"));
    input.focus();
    return;
  }
  S.joining = { name, team: pickedTeam() || null };
  setJoinError("");
  setJoining(true);
  connect();
}

// ---- the connection -------------------------------------------------------------------------

function connect() {
  page.connect({
    hello: () => {
      const saved = session();
      if (saved && saved.token) return { type: "rejoin", room: code, token: saved.token };
      const j = S.joining || { name: "", team: null };
      // In a room of a circle, this browser's token for the circle: a returning colleague.
      const circle = S.info && S.info.circle;
      return {
        type: "join",
        room: code,
        name: j.name || "",
        ...(j.team ? { team: j.team } : {}),
        ...(circle ? { device: deviceToken(circle.id) } : {}),
      };
    },
    onWelcome: (msg) => {
      const player = /** @type {PlayerRef} */ (msg.player);
      if (msg.token) {
        store.set(playerKey(code), { token: msg.token, player_id: player.id, name: player.name });
      }
      S.me = player;
      circleCard.set(msg.circle);
      if (S.joining) {
        S.joining = null;
        setJoining(false);
      }
      if (page.view !== "game") page.showView("game");
    },
    onState: (state) => {
      S.state = state;
      render();
    },
    onYou: (msg) => {
      S.you = msg;
      if (msg.player) S.me = { ...S.me, ...msg.player };
      render();
    },
    onFatal,
  });
}

/** @param {WireError} err */
function onFatal(err) {
  if (S.joining) {
    // The join itself was refused: back to the form with the reason.
    S.joining = null;
    setJoining(false);
    openJoin(errorText(err));
    return;
  }
  switch (err.code) {
    case ERROR.UNKNOWN_TOKEN:
      store.remove(playerKey(code));
      openJoin(t("err.unknown_token"));
      break;
    case ERROR.KICKED:
      store.remove(playerKey(code));
      showMessage("kicked");
      break;
    case ERROR.ROOM_CLOSED:
      keepForKeepsake();
      showMessage("closed");
      break;
    case ERROR.ROOM_NOT_FOUND:
      store.remove(playerKey(code));
      showMessage("not_found");
      break;
    default:
      showMessage("error", errorText(err));
  }
}

/**
 * The room closed: this device no longer rejoins it, but keeps the resume
 * token for the session's keepsake (/keepsake/CODE), which still opens with it.
 */
function keepForKeepsake() {
  const saved = session();
  if (saved && saved.token) store.set(keepsakeKey(code), saved.token);
  store.remove(playerKey(code));
}

// ---- rendering the game ------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st || page.view !== "game") return;
  setText(byId("room-title"), st.name);
  document.title = `${st.name} · Ritrovo`;
  if (st.phase === "closed") {
    keepForKeepsake();
    showMessage("closed");
    return;
  }
  const self = me();
  renderMeBar(st, self);
  circleCard.render();
  const phase = st.phase;
  show(byId("phase-lobby"), phase === "lobby");
  show(byId("phase-riddle"), phase === "riddle" && !!st.riddle);
  show(byId("phase-story"), phase === "story" && !!st.story);
  show(byId("phase-whoswho"), phase === "whoswho" && !!st.whoswho);
  show(byId("phase-between"), phase === "between_rounds");
  show(byId("phase-finished"), phase === "finished");
  if (phase === "lobby") {
    renderLobby(st, self);
    renderMentoring(S.you);
  }
  pairing.render(st, S.you);
  if (phase === "riddle" && st.riddle) riddle.render(st, st.riddle, self);
  else riddle.stop();
  if (phase === "story" && st.story) story.render(st, st.story, self);
  else story.stop();
  if (phase === "whoswho" && st.whoswho) whoswho.render(st, st.whoswho, self);
  else whoswho.stop();
  if (phase === "between_rounds") renderBetween(st);
  if (phase === "finished") renderFinished(st, self);
  renderScoreboard(byId("scoreboard"), st, { myTeam: self.teamId });
  if (phase === "between_rounds" || phase === "finished" || phase === "lobby") byId("scores", HTMLDetailsElement).open = true;
}

// ---- wiring -----------------------------------------------------------------------------------------

async function leave() {
  const current = page.socket;
  if (!current) return;
  const ok = await askConfirm(t("player.leave_confirm"), t("player.leave"));
  if (!ok) return;
  try {
    await current.request("leave");
  } catch {
    /* leaving anyway */
  }
  page.disconnect();
  store.remove(playerKey(code));
  S.state = null;
  S.you = null;
  showMessage("left");
}

function main() {
  initI18n();
  mountIcons();
  byId("join-form").addEventListener("submit", onJoinSubmit);
  byId("leave-button").addEventListener("click", leave);
  wireMentoring(
    async (role) => {
      const current = page.socket;
      if (!current) throw new Error("not connected");
      try {
        await current.request("set_mentoring_role", { role });
      } catch (e) {
        toast(errorText(/** @type {WireError} */ (e)), { bad: true });
        throw e;
      }
    },
    () => S.you,
  );
  byId("message-action").addEventListener("click", () => openJoin());
  byId("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = byId("other-code", HTMLInputElement);
    const other = normalizeCode(input.value);
    if (CODE_RE.test(other)) location.assign(`/r/${encodeURIComponent(other)}`);
    else input.focus();
  });
  document.addEventListener("langchange", () => {
    if (page.view === "join" && S.info) renderJoin(S.info, code);
    render();
  });
  // Team sizes on the join form are refreshed when the page comes back into view
  // (not polled: room lookups are rate-limited per address, and a whole office
  // may share one).
  document.addEventListener("visibilitychange", async () => {
    if (document.hidden || page.view !== "join" || S.joining) return;
    try {
      const info = await fetchRoom(code);
      if (info && page.view === "join") {
        S.info = info;
        renderJoin(info, code);
      }
    } catch {
      /* keep what we have */
    }
  });
  // Hint unlock times tick down every second.
  setInterval(() => {
    const st = S.state;
    if (page.view === "game" && st && st.phase === "riddle" && st.riddle && st.riddle.stage === "open") riddle.renderHints(st.riddle);
  }, 1000);

  if (!CODE_RE.test(code)) {
    showMessage("not_found");
    return;
  }
  const saved = session();
  if (saved && saved.token) {
    S.me = { id: saved.player_id, name: saved.name };
    page.showView("game");
    connect();
  } else {
    openJoin();
  }
}

main();
