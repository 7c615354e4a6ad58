// The shared screen (/screen/CODE): made to be read from across a room or in
// a shrunken video-call window. Public information only. This module owns
// the page's state and turns server messages into renders; screen/*.js render
// each phase.

import { byId, show, setText } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { mountIcons } from "./icons.js";
import { ERROR } from "./protocol.js";
import { RoomPage } from "./room_page.js";
import { codeFromPath, errorText, fetchRoom, renderScoreboard } from "./common.js";
import { renderLobby, shortUrl } from "./screen/lobby.js";
import { RiddleStage } from "./screen/riddle.js";
import { StoryStage } from "./screen/story.js";
import { renderBetween, renderPodium } from "./screen/podium.js";
import { MomentToasts } from "./screen/moments.js";
import { PairingStage } from "./screen/pairing.js";
import { WhosWhoStage } from "./screen/whoswho.js";

/** @import { RoomInfo, RoomState } from "./types.js" */

const code = codeFromPath();
const S = {
  /** @type {RoomState | null} */
  state: null,
  /** @type {RoomInfo | null} */
  info: null,
};

const page = new RoomPage({
  views: {
    lobby: byId("s-lobby"),
    riddle: byId("s-riddle"),
    story: byId("s-story"),
    between: byId("s-between"),
    finished: byId("s-finished"),
    pairing: byId("s-pairing"),
    whoswho: byId("s-whoswho"),
    message: byId("s-message"),
  },
  liveView: null,
  message: { view: "message", icon: byId("message-icon"), title: byId("message-title"), text: byId("message-text") },
});
const riddle = new RiddleStage();
const story = new StoryStage();
const toasts = new MomentToasts();
const pairing = new PairingStage();
const whoswho = new WhosWhoStage();

/**
 * Show one section, with the scoreboard beside it or not.
 * @param {"lobby" | "riddle" | "story" | "whoswho" | "between" | "finished" | "pairing"} name
 * @param {{side?: boolean}} [options]
 */
function showSection(name, { side = true } = {}) {
  page.showView(name);
  showSide(side);
}

/** @param {boolean} side */
function showSide(side) {
  show(byId("side"), side);
  byId("main").classList.toggle("full", !side);
}

// ---- rendering ------------------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st) return;
  setText(byId("room-name"), st.name);
  document.title = `${st.name} · Ritrovo`;
  // A coffee pairing runs only while no round does: it takes the stage.
  const coffee = !["riddle", "story", "whoswho", "closed"].includes(st.phase) ? st.pairing || null : null;
  // Outside the lobby's own page (and during a pairing in the lobby) the code
  // stays visible in a corner for latecomers.
  const inLobby = st.phase === "lobby" && !coffee;
  show(byId("top-code"), !inLobby && st.phase !== "closed");
  show(byId("top-join"), !inLobby && st.phase !== "closed" && !!S.info);
  setText(byId("top-code"), st.code);
  if (S.info) setText(byId("top-join"), shortUrl(S.info.join_url).replace(/\/r\/.*$/, "/r/"));

  if (st.phase !== "riddle") riddle.stop();
  if (st.phase !== "story") story.stop();
  if (st.phase !== "whoswho") whoswho.stop();
  if (!coffee) pairing.stop();
  switch (coffee ? "pairing" : st.phase) {
    case "pairing":
      showSection("pairing", { side: false });
      if (coffee) pairing.render(coffee);
      break;
    case "lobby":
      showSection("lobby", { side: false });
      renderLobby(st, S.info);
      break;
    case "riddle":
      showSection("riddle");
      if (st.riddle) riddle.render(st, st.riddle);
      break;
    case "story":
      showSection("story", { side: !(st.story && StoryStage.wide(st.story)) });
      if (st.story) story.render(st, st.story);
      break;
    case "whoswho":
      showSection("whoswho");
      if (st.whoswho) whoswho.render(st, st.whoswho);
      break;
    case "between_rounds":
      showSection("between", { side: false });
      renderBetween(st);
      break;
    case "finished":
      showSection("finished", { side: false });
      renderPodium(st);
      break;
    default:
      showMessage("closed");
  }
  renderScoreboard(byId("scoreboard"), st, { big: true });
  toasts.update(st);
}

/**
 * @param {"closed" | "not_found"} kind
 * @param {() => string} [detail] what went wrong, when the room was not found
 */
function showMessage(kind, detail) {
  page.showMessage(() =>
    kind === "closed"
      ? { icon: "wave", title: t("finished.thanks"), text: t("closed.title") }
      : { icon: "search", title: (detail && detail()) || t("err.room_not_found"), text: code },
  );
  showSide(false);
}

// ---- start ---------------------------------------------------------------------------------------------

async function main() {
  initI18n();
  mountIcons();
  document.addEventListener("langchange", () => {
    if (page.view !== "message") render();
  });
  // Turn timers on the story cards tick every second.
  setInterval(() => {
    const st = S.state;
    if (st && st.phase === "story" && st.story && st.story.stage === "writing") story.render(st, st.story);
  }, 1000);
  let missing = !code;
  try {
    S.info = code ? await fetchRoom(code) : null;
    missing = missing || S.info === null;
  } catch {
    S.info = null; // network trouble: the socket will keep trying
  }
  if (missing) {
    showMessage("not_found", () => t("join.room_missing", { code: code || "?" }));
    page.hideStatus();
    return;
  }
  page.connect({
    hello: () => ({ type: "screen", room: code }),
    onState: (state) => {
      S.state = state;
      render();
    },
    onFatal: (err) => {
      if (err.code === ERROR.ROOM_CLOSED) showMessage("closed");
      else showMessage("not_found", () => errorText(err));
    },
  });
}

main();
