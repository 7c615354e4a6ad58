// The shared screen (/screen/CODE): made to be read from across a room or in
// a shrunken video-call window. Public information only.

import { h, byId, fill, show, setText, keyed } from "./dom.js";
import { initI18n, t, lang } from "./i18n.js";
import { icon, mountIcons } from "./icons.js";
import { RoomSocket } from "./net.js";
import { Countdown, clock, formatSeconds } from "./countdown.js";
import {
  announce,
  codeFromPath,
  connectionIndicator,
  errorText,
  fetchRoom,
  momentKey,
  momentText,
  playerName,
  presence,
  renderScoreboard,
  storyText,
  teamSlot,
  teamsInRoomOrder,
  noticeBanner,
} from "./common.js";

const code = codeFromPath();
const S = { state: null, info: null, seenMoments: null, toastQueue: [], toastBusy: false, socket: null, message: null };

const say = (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }));
const riddleCountdown = new Countdown(byId("riddle-countdown"), { bar: byId("riddle-timebar"), announce: say });
const storyCountdown = new Countdown(byId("story-countdown"), { announce: say });

const SECTIONS = ["s-lobby", "s-riddle", "s-story", "s-between", "s-finished", "s-message"];

function showSection(id, { side = true } = {}) {
  for (const s of SECTIONS) show(byId(s), s === id);
  show(byId("side"), side);
  byId("main").classList.toggle("full", !side);
}

const slotOf = (teamId) => teamSlot(teamsInRoomOrder(S.state), teamId);
const shortUrl = (url) => String(url || "").replace(/^https?:\/\//, "");

// ---- rendering ------------------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st) return;
  setText(byId("room-name"), st.name);
  document.title = `${st.name} · Ritrovo`;
  const inLobby = st.phase === "lobby";
  // Outside the lobby the code stays visible in a corner for latecomers.
  show(byId("top-code"), !inLobby && st.phase !== "closed");
  show(byId("top-join"), !inLobby && st.phase !== "closed" && !!S.info);
  setText(byId("top-code"), st.code);
  if (S.info) setText(byId("top-join"), shortUrl(S.info.join_url).replace(/\/r\/.*$/, "/r/"));

  if (st.phase !== "riddle") riddleCountdown.stop();
  if (st.phase !== "story") storyCountdown.stop();
  switch (st.phase) {
    case "lobby":
      showSection("s-lobby", { side: false });
      renderLobby();
      break;
    case "riddle":
      showSection("s-riddle");
      if (st.riddle) renderRiddle();
      break;
    case "story":
      showSection("s-story");
      if (st.story) renderStory();
      break;
    case "between_rounds":
      showSection("s-between", { side: false });
      renderBetween();
      break;
    case "finished":
      showSection("s-finished", { side: false });
      renderPodium();
      break;
    default:
      showMessage("closed");
  }
  renderScoreboard(byId("scoreboard"), st, { big: true });
  handleMoments();
  if (st.phase === "finished" || st.phase === "lobby") clearToasts(); // the podium gets the whole screen
}

function clearToasts() {
  S.toastQueue = [];
  byId("moment-toast").hidden = true;
}

function renderLobby() {
  const st = S.state;
  setText(byId("lobby-code"), st.code);
  const url = S.info ? S.info.join_url : `${location.origin}/r/${st.code}`;
  setText(byId("lobby-url"), shortUrl(url));
  const qr = byId("lobby-qr");
  if (!qr.getAttribute("src")) qr.src = `/api/rooms/${encodeURIComponent(st.code)}/qr.svg`;
  qr.alt = t("screen.qr_alt", { code: st.code });
  setText(byId("lobby-title"), st.players_count ? (st.pack ? st.pack.title : st.name) : t("screen.waiting_players"));
  setText(
    byId("lobby-count"),
    st.players_count
      ? `${t(st.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: st.players_count })} · ${t("screen.starting_soon")}`
      : st.pack
        ? st.pack.title
        : "",
  );
  keyed(
    byId("lobby-teams"),
    teamsInRoomOrder(st),
    (team) => team.id,
    (team) => JSON.stringify([team.name, team.players, slotOf(team.id), lang]),
    (team) =>
      h(
        "div",
        { class: ["lobby-team", `team-${slotOf(team.id)}`] },
        h("h3", {}, team.name, " ", h("span", { class: "muted small" }, `(${team.players.length})`)),
        team.players.length
          ? h("ul", { class: "team-members" }, team.players.map((p) => h("li", {}, presence(p), p.name)))
          : h("p", { class: "muted small" }, t("common.no_players")),
      ),
  );
}

function renderRiddle() {
  const st = S.state;
  const r = st.riddle;
  const key = `${r.round_index}:${r.index}`;
  const round = st.round;
  setText(
    byId("riddle-kicker"),
    [round ? round.title : "", t("riddle.count", { n: r.index + 1, count: r.count })].filter(Boolean).join(" · "),
  );
  setText(byId("riddle-text"), r.text);
  const open = r.stage === "open";
  const reveal = r.reveal || null;

  keyed(
    byId("riddle-options"),
    r.options.map((text, index) => ({ text, index })),
    (o) => o.index,
    (o) => JSON.stringify([o.text, reveal ? reveal.answer : null, reveal ? reveal.spread[o.index] : null, lang]),
    (o) => {
      const right = reveal && reveal.answer === o.text;
      const count = reveal && reveal.spread ? reveal.spread[o.index] || 0 : null;
      return h(
        "li",
        { class: right ? "right" : "" },
        h("span", {}, `${String.fromCharCode(65 + o.index)}. `, o.text, right ? " ✓" : ""),
        count === null ? null : h("span", { class: "muted" }, t(count === 1 ? "riddle.spread_one" : "riddle.spread", { n: count })),
      );
    },
  );
  show(byId("riddle-options"), r.options.length > 0);

  show(byId("riddle-clock"), open);
  show(byId("riddle-paused"), open && r.paused);
  if (open) riddleCountdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
  else riddleCountdown.set({ deadlineAt: null, key });

  show(byId("riddle-reveal"), !open);
  if (reveal) {
    setText(byId("riddle-answer"), reveal.answer);
    setText(byId("riddle-explanation"), reveal.explanation);
  }

  keyed(
    byId("riddle-progress"),
    teamsInRoomOrder(st),
    (team) => team.id,
    (team) => JSON.stringify([team.name, r.progress[team.id], slotOf(team.id), lang]),
    (team) => {
      const p = r.progress[team.id] || { solved: false, guesses: 0 };
      return h(
        "li",
        { class: [`team-${slotOf(team.id)}`, p.solved && "solved"] },
        h("span", { class: "team-dot", "aria-hidden": "true" }),
        team.name,
        p.solved ? h("span", {}, "✓ ", t("riddle.progress_solved")) : h("span", { class: "muted" }, "…"),
      );
    },
  );
}

function renderStory() {
  const st = S.state;
  const s = st.story;
  const round = st.round;
  setText(byId("story-kicker"), [s.title, round ? t("common.round", { n: round.index + 1, count: round.count }) : ""].filter(Boolean).join(" · "));
  const entries = s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean);
  const focus = byId("story-focus");
  const grid = byId("story-grid");
  const clockRow = byId("story-clock");

  if (s.stage === "writing") {
    setText(byId("story-heading"), t("screen.writing"));
    show(clockRow, false);
    storyCountdown.stop();
    show(focus, false);
    show(grid, true);
    keyed(
      grid,
      entries,
      (e) => e.team_id,
      (e) => JSON.stringify([e, playerName(st, e.writer), Math.ceil(turnLeft(e, s)), lang]),
      (e) =>
        h(
          "div",
          { class: ["screen-story-card", `team-${slotOf(e.team_id)}`] },
          h("h2", { class: "screen-story-title" }, h("span", { class: "team-dot", "aria-hidden": "true" }), e.name),
          h("p", { class: "votes-big" }, t(e.lines_count === 1 ? "story.lines_count_one" : "story.lines_count", { n: e.lines_count })),
          e.done
            ? h("p", {}, "✓ ", t("story.done"))
            : e.writer
              ? h("p", {}, icon("pen"), " ", t("story.waiting_writer", { name: playerName(st, e.writer) }), " ", h("strong", {}, formatSeconds(turnLeft(e, s))))
              : h("p", { class: "muted" }, t("story.waiting_nobody")),
        ),
    );
    return;
  }

  if (s.stage === "reveal") {
    const current = s.reveal_index >= 0 ? s.teams[s.reveal_order[s.reveal_index]] : null;
    setText(byId("story-heading"), current ? t("moment.story_revealed", { team: current.name }) : t("story.waiting_reveal"));
    show(clockRow, false);
    storyCountdown.stop();
    show(grid, false);
    show(focus, !!current);
    if (current) {
      const sig = JSON.stringify([current, lang]);
      if (focus.dataset.sig !== sig) {
        focus.dataset.sig = sig;
        fill(focus, storyText(current, st));
      }
    }
    return;
  }

  // voting and results: every story, smaller, side by side
  const voting = s.stage === "voting";
  setText(byId("story-heading"), voting ? t("story.vote_on_phones") : t("story.results"));
  show(focus, false);
  show(grid, true);
  show(clockRow, voting);
  show(byId("story-countdown"), voting && !!s.vote_deadline_at);
  if (voting) {
    if (s.vote_deadline_at) storyCountdown.set({ deadlineAt: s.vote_deadline_at, key: `vote:${s.round_index}` });
    else storyCountdown.stop();
    setText(byId("story-voters"), t("story.voters", { n: (s.voters || []).length, total: st.players_count }));
  } else {
    storyCountdown.stop();
  }
  const winners = new Set(s.winners || []);
  keyed(
    grid,
    entries,
    (e) => e.team_id,
    (e) => JSON.stringify([e, s.stage, (s.vote_counts || {})[e.team_id], (s.points || {})[e.team_id], winners.has(e.team_id), lang]),
    (e) => {
      const votes = (s.vote_counts || {})[e.team_id] || 0;
      return h(
        "div",
        { class: ["screen-story-card", `team-${slotOf(e.team_id)}`, winners.has(e.team_id) && "winner"] },
        h("h2", { class: "screen-story-title" }, h("span", { class: "team-dot", "aria-hidden": "true" }), e.name),
        s.stage === "results"
          ? h(
              "p",
              {},
              winners.has(e.team_id) ? [icon("trophy"), " ", t("story.winner"), " · "] : null,
              h("span", { class: "votes-big" }, t(votes === 1 ? "story.votes_one" : "story.votes", { n: votes })),
              " ",
              h("span", { class: "muted" }, t("story.points", { n: (s.points || {})[e.team_id] || 0 })),
            )
          : null,
        e.lines !== undefined ? storyText(e, st, { writers: false }) : null,
      );
    },
  );
}

function turnLeft(e, s) {
  if (s.paused) return e.seconds_left || 0;
  if (!e.turn_deadline_at) return 0;
  return Math.max(0, e.turn_deadline_at - clock.now());
}

function renderBetween() {
  const st = S.state;
  const next = st.pack && st.round ? st.pack.rounds[st.round.index + 1] : null;
  setText(byId("between-next"), next ? t("between.next", { title: next.title }) : "");
  renderScoreboard(byId("between-scoreboard"), st, { big: true });
}

function renderPodium() {
  const st = S.state;
  const top = st.teams.slice(0, 3);
  // Visual order: 2nd, 1st, 3rd.
  const order = [top[1], top[0], top[2]].filter(Boolean);
  const sig = JSON.stringify([top, lang]);
  const podium = byId("podium");
  if (podium.dataset.sig !== sig) {
    podium.dataset.sig = sig;
    fill(
      podium,
      order.map((team) =>
        h(
          "div",
          { class: ["podium-step", `p${team.rank}`, `team-${slotOf(team.id)}`] },
          team.rank === 1 ? h("span", { class: "podium-medal" }, icon("trophy")) : null,
          h("div", { class: "podium-name" }, team.name),
          h("div", { class: "podium-score" }, t("common.points_long", { n: team.score })),
          h("div", { class: "podium-players" }, team.players.map((p) => p.name).join(", ")),
          h("div", { class: "podium-block", "aria-label": t("common.rank", { n: team.rank }) }, String(team.rank)),
        ),
      ),
    );
  }
  const rest = st.teams.slice(3);
  setText(byId("podium-rest"), rest.map((team) => `${t("common.rank", { n: team.rank })} ${team.name} · ${team.score}`).join("   "));
}

function showMessage(kind, detail = "") {
  S.message = { kind, detail };
  showSection("s-message", { side: false });
  fill(byId("message-icon"), icon(kind === "closed" ? "wave" : "search"));
  if (kind === "closed") {
    setText(byId("message-title"), t("finished.thanks"));
    setText(byId("message-text"), t("closed.title"));
  } else {
    setText(byId("message-title"), detail || t("err.room_not_found"));
    setText(byId("message-text"), code);
  }
}

// ---- moments: "Team X solved it!" ------------------------------------------------------------------

const CELEBRATE = new Set(["team_solved", "story_won", "guess_accepted"]);

function handleMoments() {
  const st = S.state;
  const moments = st.moments || [];
  if (S.seenMoments === null) {
    // Do not replay what happened before this screen connected.
    S.seenMoments = new Set(moments.map(momentKey));
    return;
  }
  for (const m of moments) {
    const key = momentKey(m);
    if (S.seenMoments.has(key)) continue;
    S.seenMoments.add(key);
    if (CELEBRATE.has(m.kind)) S.toastQueue.push(momentText(st, m));
  }
  nextToast();
}

function nextToast() {
  if (S.toastBusy || !S.toastQueue.length) return;
  S.toastBusy = true;
  const el = byId("moment-toast");
  const text = S.toastQueue.shift();
  el.textContent = text;
  el.hidden = false;
  announce(text);
  clearTimeout(S.toastTimer);
  S.toastTimer = setTimeout(() => {
    el.hidden = true;
    S.toastBusy = false;
    nextToast();
  }, 3500);
}

// ---- start ---------------------------------------------------------------------------------------------

async function main() {
  initI18n();
  mountIcons();
  document.addEventListener("langchange", () => {
    byId("podium").dataset.sig = "";
    byId("story-focus").dataset.sig = "";
    if (S.message) showMessage(S.message.kind, S.message.detail);
    else render();
  });
  // Turn timers on the story cards tick every second.
  setInterval(() => {
    if (S.state && S.state.phase === "story" && S.state.story && S.state.story.stage === "writing") renderStory();
  }, 1000);
  let missing = !code;
  try {
    S.info = code ? await fetchRoom(code) : null;
    missing = missing || S.info === null;
  } catch {
    S.info = null; // network trouble: the socket will keep trying
  }
  if (missing) {
    showMessage("not_found", t("join.room_missing", { code: code || "?" }));
    show(byId("conn"), false);
    return;
  }
  const socket = new RoomSocket({
    hello: () => ({ type: "screen", room: code }),
    onState: (state) => {
      S.state = state;
      S.message = null;
      render();
    },
    onStatus: (status, detail) => setConn(status, detail),
    onNotice: noticeBanner(byId("notice-banner")),
    onFatal: (err) => {
      if (err.code === "room_closed") showMessage("closed");
      else showMessage("not_found", errorText(err));
    },
  });
  S.socket = socket;
  const setConn = connectionIndicator(byId("conn"), socket);
  socket.start();
}

main();
