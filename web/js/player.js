// The player's page (/r/CODE): join, then follow the game on a phone.

import { h, byId, fill, show, setText, keyed } from "./dom.js";
import { initI18n, t, lang } from "./i18n.js";
import { icon, mountIcons } from "./icons.js";
import { RoomSocket } from "./net.js";
import { Countdown, clock, formatSeconds } from "./countdown.js";
import {
  CODE_RE,
  announce,
  askConfirm,
  codeFromPath,
  connectionIndicator,
  errorText,
  fetchRoom,
  normalizeCode,
  playerKey,
  playerName,
  presence,
  promptMeta,
  renderScoreboard,
  store,
  storyText,
  teamName,
  teamSlot,
  teamsInRoomOrder,
  verdictBadge,
  noticeBanner,
  connectionBanner,
} from "./common.js";

const code = codeFromPath();

const S = {
  info: null, // GET /api/rooms/CODE, for the join form
  state: null,
  you: null,
  me: null, // {id, name, team_id}
  socket: null,
  joining: null, // {name, team} while a join is in flight
  view: null,
  riddleKey: null,
  knownGuesses: 0,
  turnKey: null,
  charWarned: false,
  lastMessage: null,
};

const riddleCountdown = new Countdown(byId("riddle-countdown"), {
  bar: byId("riddle-timebar"),
  announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }), { assertive: s <= 10 }),
});
const storyCountdown = new Countdown(byId("story-countdown"), {
  announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }), { assertive: s <= 10 }),
});
let setConn = () => {};

const session = () => store.get(playerKey(code));
const myId = () => (S.me && S.me.id) || (session() || {}).player_id || null;
const myTeam = () => (S.you && S.you.player && S.you.player.team_id) || (S.me && S.me.team_id) || null;

// ---- views -------------------------------------------------------------------------------

function showView(name) {
  S.view = name;
  show(byId("view-join"), name === "join");
  show(byId("view-message"), name === "message");
  show(byId("view-game"), name === "game");
  show(byId("conn"), name === "game");
  if (name !== "game") show(byId("conn-banner"), false);
}

/** A message instead of the game: kind = not_found | closed | kicked | left | error. */
function showMessage(kind, detail = "") {
  S.lastMessage = { kind, detail };
  riddleCountdown.stop();
  storyCountdown.stop();
  const name = { not_found: "search", closed: "wave", kicked: "door", left: "wave", error: "alert" }[kind] || "alert";
  fill(byId("message-emoji"), icon(name));
  const titles = {
    not_found: t("join.room_missing", { code: code || "?" }),
    closed: t("closed.title"),
    kicked: t("err.kicked"),
    left: t("player.left"),
    error: t("common.error", { message: detail }),
  };
  setText(byId("message-title"), titles[kind] || "");
  setText(byId("message-text"), kind === "closed" ? t("err.room_closed") : "");
  const action = byId("message-action");
  const canJoin = kind === "left" || kind === "kicked";
  show(action, canJoin);
  if (canJoin) setText(action, t("player.join_again"));
  show(byId("code-form"), kind === "not_found" || kind === "closed" || kind === "error");
  showView("message");
}

// ---- joining ------------------------------------------------------------------------------

async function openJoin(errorMessage = "") {
  showView("join");
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
  renderJoin();
  setJoinError(errorMessage || (S.info.locked ? t("join.locked") : ""));
  const name = byId("join-name");
  if (!name.value) name.focus();
}

function renderJoin() {
  if (!S.info) return;
  setText(byId("join-heading"), t("join.title", { code }));
  const info = S.info;
  setText(
    byId("join-room-info"),
    [info.name, info.pack ? info.pack.title : "", t(info.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: info.players_count })]
      .filter(Boolean)
      .join(" · "),
  );
  const list = byId("team-choices");
  const chosen = (list.querySelector("input:checked") || {}).value ?? "";
  const choice = (value, title, meta, slot) =>
    h(
      "li",
      {},
      h(
        "label",
        { class: ["choice", slot !== null && `team-${slot}`] },
        h("input", { type: "radio", name: "team", value, checked: value === chosen }),
        h(
          "span",
          {},
          h("span", { class: "choice-title" }, slot !== null ? h("span", { class: "team-dot", "aria-hidden": "true" }) : null, slot !== null ? " " : "", title),
          meta ? h("span", { class: "choice-meta" }, meta) : null,
        ),
      ),
    );
  fill(
    list,
    choice("", t("join.team_auto"), "", null),
    info.teams.map((team, i) =>
      choice(team.id, team.name, t(team.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: team.players_count }), i % 8),
    ),
  );
}

function setJoinError(text) {
  const el = byId("join-error");
  el.textContent = text || "";
  show(el, !!text);
}

function onJoinSubmit(event) {
  event.preventDefault();
  const name = byId("join-name").value.trim();
  if (!name) {
    setJoinError(t("err.empty_name"));
    byId("join-name").focus();
    return;
  }
  const picked = byId("team-choices").querySelector("input:checked");
  S.joining = { name, team: picked && picked.value ? picked.value : null };
  setJoinError("");
  const button = byId("join-button");
  button.disabled = true;
  setText(button, t("join.joining"));
  startSocket();
}

function resetJoinButton() {
  const button = byId("join-button");
  button.disabled = false;
  setText(button, t("join.button"));
}

// ---- the connection -------------------------------------------------------------------------

function startSocket() {
  if (S.socket) S.socket.stop();
  const connBanner = connectionBanner(byId("conn-banner"), () => S.view === "game");
  const socket = new RoomSocket({
    hello: () => {
      const saved = session();
      if (saved && saved.token) return { type: "rejoin", room: code, token: saved.token };
      const j = S.joining || {};
      return { type: "join", room: code, name: j.name || "", ...(j.team ? { team: j.team } : {}) };
    },
    onWelcome: (msg) => {
      if (msg.token) {
        store.set(playerKey(code), { token: msg.token, player_id: msg.player.id, name: msg.player.name });
      }
      S.me = msg.player;
      if (S.joining) {
        S.joining = null;
        resetJoinButton();
      }
      if (S.view !== "game") showView("game");
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
    onStatus: (status, detail) => {
      setConn(status, detail);
      connBanner(status);
    },
    onNotice: noticeBanner(byId("notice-banner")),
    onFatal: (err) => onFatal(err),
  });
  S.socket = socket;
  setConn = connectionIndicator(byId("conn"), socket);
  socket.start();
}

function onFatal(err) {
  S.socket = null;
  if (S.joining) {
    // The join itself was refused: back to the form with the reason.
    S.joining = null;
    resetJoinButton();
    openJoin(errorText(err));
    return;
  }
  switch (err.code) {
    case "unknown_token":
      store.remove(playerKey(code));
      openJoin(t("err.unknown_token"));
      break;
    case "kicked":
      store.remove(playerKey(code));
      showMessage("kicked");
      break;
    case "room_closed":
      store.remove(playerKey(code));
      showMessage("closed");
      break;
    case "room_not_found":
      store.remove(playerKey(code));
      showMessage("not_found");
      break;
    default:
      showMessage("error", errorText(err));
  }
}

// ---- rendering the game ------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st || S.view !== "game") return;
  setText(byId("room-title"), st.name);
  document.title = `${st.name} · Ritrovo`;
  if (st.phase === "closed") {
    store.remove(playerKey(code));
    showMessage("closed");
    return;
  }
  renderMeBar();
  const phase = st.phase;
  show(byId("phase-lobby"), phase === "lobby");
  show(byId("phase-riddle"), phase === "riddle" && !!st.riddle);
  show(byId("phase-story"), phase === "story" && !!st.story);
  show(byId("phase-between"), phase === "between_rounds");
  show(byId("phase-finished"), phase === "finished");
  if (phase === "lobby") renderLobby();
  if (phase === "riddle" && st.riddle) renderRiddle();
  else riddleCountdown.stop();
  if (phase === "story" && st.story) renderStory();
  else storyCountdown.stop();
  if (phase === "between_rounds") renderBetween();
  if (phase === "finished") renderFinished();
  renderScoreboard(byId("scoreboard"), st, { myTeam: myTeam() });
  if (phase === "between_rounds" || phase === "finished" || phase === "lobby") byId("scores").open = true;
}

function renderMeBar() {
  const st = S.state;
  const team = myTeam();
  const slot = teamSlot(teamsInRoomOrder(st), team);
  const points = S.you && S.you.player ? S.you.player.points : null;
  const name = (S.me && S.me.name) || "";
  const row = st.teams.find((x) => x.id === team);
  const teamScore = row ? row.score : null;
  const sig = JSON.stringify([name, team, teamName(st, team), points, teamScore, slot, lang]);
  const bar = byId("me-bar");
  if (bar.dataset.sig === sig) return;
  bar.dataset.sig = sig;
  fill(
    bar,
    h("span", { id: "me-name" }, t("player.you_are", { name })),
    h("span", { class: ["team-chip", `team-${slot}`] }, h("span", { class: "team-dot", "aria-hidden": "true" }), h("span", { id: "me-team" }, t("player.team_of", { team: teamName(st, team) }))),
    teamScore === null ? null : h("span", { class: "pill", id: "me-team-score", title: t("common.scoreboard") }, t("player.team_score", { n: teamScore })),
    points === null ? null : h("span", { id: "me-points", class: "muted" }, t("player.my_points", { n: points })),
  );
}

function renderLobby() {
  const st = S.state;
  const team = st.teams.find((x) => x.id === myTeam());
  setText(byId("lobby-pack"), st.pack ? st.pack.title : "");
  setText(byId("lobby-team-name"), team ? team.name : "");
  const members = byId("lobby-members");
  keyed(
    members,
    team ? team.players : [],
    (p) => p.id,
    (p) => JSON.stringify([p, myId(), lang]),
    (p) => h("li", {}, presence(p), p.name, p.id === myId() ? h("span", { class: "tag" }, t("common.you")) : null),
  );
}

// ---- riddles ----------------------------------------------------------------------------------

function currentTeamAttempt(r) {
  return r.team || { guesses: [], hints_opened: 0, solved: false, points: 0, locked_out: false };
}

function renderRiddle() {
  const st = S.state;
  const r = st.riddle;
  const key = `${r.round_index}:${r.index}`;
  const team = currentTeamAttempt(r);
  if (key !== S.riddleKey) {
    S.riddleKey = key;
    S.knownGuesses = team.guesses.length;
    byId("guess-input").value = "";
    show(byId("verdict-flash"), false);
  }
  const round = st.round;
  setText(byId("riddle-round"), round ? `${round.title} · ${t("common.round", { n: round.index + 1, count: round.count })}` : "");
  setText(byId("riddle-count"), t("riddle.count", { n: r.index + 1, count: r.count }));
  setText(byId("riddle-text"), r.text);
  setText(byId("riddle-worth"), t("riddle.worth", { n: r.points }));
  const open = r.stage === "open";
  if (open) {
    riddleCountdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
  } else {
    riddleCountdown.set({ deadlineAt: null, key });
  }
  show(byId("riddle-paused"), open && r.paused);
  show(byId("riddle-countdown"), open);
  show(byId("riddle-timebar").parentElement, open);
  show(byId("riddle-open"), open);
  show(byId("riddle-revealed"), !open);

  const solvedBanner = byId("solved-banner");
  show(solvedBanner, team.solved);
  if (team.solved) setText(solvedBanner, t("riddle.solved_banner", { n: team.points }));
  show(byId("locked-out"), team.locked_out && !team.solved);
  const canGuess = open && !team.solved && !team.locked_out && !r.paused;

  const hasOptions = r.options.length > 0;
  show(byId("options-box"), hasOptions && open && !team.solved && !team.locked_out);
  show(byId("guess-form"), !hasOptions && open && !team.solved);
  if (hasOptions) renderOptions(r, team, canGuess);
  byId("guess-input").disabled = !canGuess;
  byId("guess-button").disabled = !canGuess;

  renderHints();
  renderGuesses(team);
  renderProgress(r);
  if (!open) renderReveal(r);
}

function renderOptions(r, team, canGuess) {
  const chosen = new Set(team.guesses.map((g) => g.text));
  keyed(
    byId("options"),
    r.options.map((text, index) => ({ text, index })),
    (o) => o.index,
    (o) => JSON.stringify([o.text, chosen.has(o.text), canGuess]),
    (o) =>
      h(
        "button",
        {
          type: "button",
          class: "btn option-btn",
          "aria-pressed": String(chosen.has(o.text)),
          disabled: !canGuess,
          dataset: { fk: `option-${o.index}` },
          onclick: () => sendGuess(o.text, false),
        },
        h("span", { "aria-hidden": "true" }, `${String.fromCharCode(65 + o.index)}.`),
        " ",
        o.text,
      ),
  );
}

function hintStates() {
  const r = S.state.riddle;
  const team = currentTeamAttempt(r);
  const open = r.stage === "open";
  const left = r.paused ? r.remaining : Math.max(0, r.deadline_at - clock.now());
  const elapsed = r.time_limit - left;
  return r.hints.map((hint) => {
    const n = hint.index + 1;
    let state;
    let secs = 0;
    if (hint.text !== undefined) state = "open";
    else if (!open || team.solved) state = "closed";
    else if (!hint.unlocked) {
      state = "locked";
      secs = Math.max(0, Math.ceil(hint.after - elapsed));
    } else if (hint.index === team.hints_opened) state = "can_open";
    else state = "wait_previous";
    return { ...hint, n, state, secs };
  });
}

function renderHints() {
  const r = S.state.riddle;
  show(byId("hints-box"), r.hints.length > 0);
  keyed(
    byId("hint-list"),
    hintStates(),
    (hint) => hint.index,
    (hint) => JSON.stringify([hint.state, hint.text, hint.secs, hint.cost, lang]),
    (hint) => {
      const title = h("span", { class: "hint-title" }, t("riddle.hint_n", { n: hint.n }));
      switch (hint.state) {
        case "open":
          return h("li", { class: "hint open" }, title, " ", h("span", { class: "muted small" }, `(${t("riddle.hint_cost", { cost: hint.cost })})`), h("p", { class: "hint-text" }, hint.text));
        case "can_open":
          return h(
            "li",
            { class: "hint" },
            h(
              "button",
              { type: "button", class: "btn btn-accent btn-block", dataset: { fk: `hint-${hint.index}` }, onclick: () => openHint(hint) },
              icon("bulb"),
              t("riddle.open_hint", { n: hint.n, cost: hint.cost }),
            ),
          );
        case "locked":
          return h("li", { class: "hint muted" }, icon("lock"), " ", t("riddle.hint_in", { n: hint.n, time: formatSeconds(hint.secs) }), " · ", t("riddle.hint_cost", { cost: hint.cost }));
        case "wait_previous":
          return h("li", { class: "hint muted" }, icon("lock"), " ", t("riddle.hint_after_previous", { n: hint.n, prev: hint.n - 1 }));
        default:
          return h("li", { class: "hint muted" }, title);
      }
    },
  );
}

function renderGuesses(team) {
  const guesses = team.guesses;
  show(byId("no-guesses"), guesses.length === 0);
  // Announce teammates' new guesses (our own are announced by the verdict flash).
  if (guesses.length > S.knownGuesses) {
    for (const g of guesses.slice(S.knownGuesses)) {
      if (g.player_id !== myId()) {
        announce(`${g.player_name}: ${g.text}. ${t(`verdict.${g.verdict}`)}${g.nudge ? `. ${g.nudge}` : ""}`);
      }
    }
  }
  S.knownGuesses = guesses.length;
  keyed(
    byId("guess-list"),
    [...guesses].reverse(),
    (g) => g.index,
    (g) => JSON.stringify([g.verdict, g.accepted_by_host, g.nudge, lang]),
    (g) =>
      h(
        "li",
        { class: ["guess-row", `g-${g.verdict}`] },
        verdictBadge(g.verdict, g.accepted_by_host),
        h("span", {}, h("span", { class: "guess-text" }, g.text), " ", h("span", { class: "guess-by" }, t("riddle.by", { name: g.player_name }))),
        g.verdict === "near" && g.nudge ? h("span", { class: "guess-nudge" }, g.nudge) : null,
      ),
  );
}

function renderProgress(r) {
  const st = S.state;
  const mine = myTeam();
  const rows = teamsInRoomOrder(st)
    .filter((team) => team.id !== mine)
    .map((team) => ({ team, p: r.progress[team.id] || { solved: false, guesses: 0 } }));
  keyed(
    byId("progress-list"),
    rows,
    (row) => row.team.id,
    (row) => JSON.stringify([row.team.name, row.p, lang]),
    (row) =>
      h(
        "li",
        { class: `team-${teamSlot(teamsInRoomOrder(st), row.team.id)}` },
        h("span", { class: "team-dot", "aria-hidden": "true" }),
        h("span", { class: "grow" }, row.team.name),
        row.p.solved
          ? verdictBadge("correct")
          : h("span", { class: "muted small" }, t(row.p.guesses === 1 ? "riddle.progress_working_one" : "riddle.progress_working", { n: row.p.guesses })),
      ),
  );
}

function renderReveal(r) {
  const st = S.state;
  const reveal = r.reveal || { answer: "", explanation: "", solvers: [], end_reason: "" };
  setText(byId("reveal-answer"), reveal.answer);
  setText(byId("reveal-explanation"), reveal.explanation);
  show(byId("reveal-skipped"), reveal.end_reason === "skipped");
  const solvers = byId("reveal-solvers");
  if (!reveal.solvers.length) {
    fill(solvers, h("li", { class: "muted" }, t("riddle.nobody_solved")));
    return;
  }
  fill(
    solvers,
    reveal.solvers.map((s) =>
      h(
        "li",
        { class: `team-${teamSlot(teamsInRoomOrder(st), s.team_id)}` },
        h("span", { class: "team-dot", "aria-hidden": "true" }),
        h("span", { class: "grow" }, t("riddle.solved_in", { team: teamName(st, s.team_id), s: Math.round(s.elapsed), n: s.points })),
        s.team_id === myTeam() ? h("span", { class: "tag" }, t("common.you")) : null,
      ),
    ),
  );
}

function flash(kind, text) {
  const el = byId("verdict-flash");
  el.className = `verdict-flash ${kind}`;
  fill(el, kind === "info" ? null : [verdictBadge(kind), " "], h("span", { class: "flash-text" }, text));
  show(el, true);
}

async function sendGuess(text, fromInput = true) {
  const value = String(text || "").trim();
  if (!value || !S.socket) return;
  try {
    const result = await S.socket.request("guess", { text: value });
    if (fromInput) byId("guess-input").value = "";
    if (result.verdict === "correct") flash("correct", t("verdict.you_correct", { n: result.points }));
    else if (result.verdict === "near") flash("near", result.nudge || t("verdict.you_near_plain"));
    else flash("wrong", t("verdict.you_wrong", { text: value }));
  } catch (err) {
    flash("info", errorText(err));
  }
  if (fromInput && !byId("guess-input").disabled) byId("guess-input").focus();
}

async function openHint(hint) {
  if (!S.socket) return;
  try {
    await S.socket.request("hint");
    announce(t("riddle.hint_opened", { cost: hint.cost }));
  } catch (err) {
    flash("info", errorText(err));
  }
}

// ---- stories ------------------------------------------------------------------------------------

function renderStory() {
  const st = S.state;
  const s = st.story;
  const team = myTeam();
  const mine = s.teams[team] || null;
  const round = st.round;
  setText(byId("story-round"), round ? `${s.title} · ${t("common.round", { n: round.index + 1, count: round.count })}` : s.title);
  const headings = { writing: "story.write_title", reveal: "story.reveal_title", voting: "story.vote_title", results: "story.results" };
  setText(byId("story-heading"), t(headings[s.stage] || "story.write_title"));

  const writing = s.stage === "writing";
  show(byId("story-writing"), writing);
  show(byId("story-after"), !writing);

  // The prompt (own team's) while writing.
  const promptBox = byId("story-prompt");
  const promptSig = JSON.stringify([writing, mine && mine.prompt, lang]);
  if (promptBox.dataset.sig !== promptSig) {
    promptBox.dataset.sig = promptSig;
    if (writing && mine && mine.prompt) {
      fill(
        promptBox,
        promptMeta(mine.prompt),
        mine.prompt.opening ? [h("p", { class: "small muted" }, t("story.opening")), h("p", { class: "story story-opening" }, mine.prompt.opening)] : null,
      );
    } else {
      fill(promptBox);
    }
  }

  if (writing) renderWriting(s, mine);
  else renderAfter(s);
}

function renderWriting(s, mine) {
  const st = S.state;
  const yourTurn = S.you && S.you.your_turn ? S.you.your_turn : null;
  const composer = byId("composer");
  const wasHidden = composer.hidden;
  show(composer, !!yourTurn);
  const input = byId("line-input");
  input.maxLength = s.max_chars;
  updateCounter();
  const turnKey = mine ? `${mine.team_id}:${mine.turns_done}` : "none";
  if (yourTurn && wasHidden) {
    announce(t("story.your_turn"), { assertive: true });
    show(byId("line-error"), false);
    if (document.activeElement === document.body || !document.activeElement) input.focus();
  }
  const prev = mine && mine.previous_line ? mine.previous_line : null;
  show(byId("previous-line-box"), !!(yourTurn && prev && s.visibility === "chain"));
  if (prev) setText(byId("previous-line"), prev.text);

  const box = byId("story-countdown-box");
  if (yourTurn) {
    show(box, true);
    storyCountdown.set({ deadlineAt: yourTurn.deadline_at, paused: yourTurn.paused, remaining: yourTurn.seconds_left, total: s.seconds_per_turn, key: turnKey });
  } else if (mine && mine.writer) {
    show(box, true);
    storyCountdown.set({ deadlineAt: mine.turn_deadline_at, paused: s.paused, remaining: mine.seconds_left, total: s.seconds_per_turn, key: turnKey });
  } else {
    show(box, false);
    storyCountdown.stop();
  }
  show(byId("story-paused"), s.paused);

  const status = byId("turn-status");
  let statusText = "";
  if (!yourTurn && mine) {
    if (mine.done) statusText = t("story.team_done");
    else if (mine.writer) statusText = t("story.waiting_writer", { name: playerName(st, mine.writer) });
    else statusText = t("story.waiting_nobody");
    if (s.visibility === "chain" && !mine.done) statusText += ` ${t("story.chain_secret")}`;
  }
  show(status, !!statusText);
  setText(status, statusText);

  const storyBox = byId("my-story-box");
  const visible = mine && mine.lines !== undefined;
  show(storyBox, !!visible);
  if (visible) {
    const sig = JSON.stringify([mine.lines, mine.writers, lang]);
    const el = byId("my-story");
    if (el.dataset.sig !== sig) {
      el.dataset.sig = sig;
      // The opening is already shown with the prompt.
      fill(el, storyText({ ...mine, prompt: {} }, st));
    }
  }

  keyed(
    byId("story-progress"),
    s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean),
    (e) => e.team_id,
    (e) => JSON.stringify([e.name, e.lines_count, e.writer, e.done, playerName(st, e.writer), myTeam(), lang]),
    (e) =>
      h(
        "li",
        { class: `team-${teamSlot(teamsInRoomOrder(st), e.team_id)}` },
        h("span", { class: "team-dot", "aria-hidden": "true" }),
        h("span", { class: "grow" }, e.name, e.team_id === myTeam() ? h("span", { class: "tag" }, t("common.you")) : null),
        h(
          "span",
          { class: "muted small" },
          t(e.lines_count === 1 ? "story.lines_count_one" : "story.lines_count", { n: e.lines_count }),
          " · ",
          e.done ? `✓ ${t("story.done")}` : e.writer ? `✎ ${t("story.turn", { name: playerName(st, e.writer) })}` : "…",
        ),
      ),
  );
}

function updateCounter() {
  const input = byId("line-input");
  const max = input.maxLength > 0 ? input.maxLength : 160;
  const n = input.value.length;
  const left = max - n;
  const counter = byId("char-counter");
  setText(counter, t("story.chars", { n, max }));
  counter.classList.toggle("near-limit", left <= 20 && left > 0);
  counter.classList.toggle("at-limit", left <= 0);
  if (left <= 20 && !S.charWarned) {
    S.charWarned = true;
    announce(t("story.chars_left", { n: left }));
  }
  if (left > 20) S.charWarned = false;
}

async function sendLine(event) {
  event.preventDefault();
  const input = byId("line-input");
  const text = input.value.replace(/\s+/g, " ").trim();
  const error = byId("line-error");
  if (!text) {
    setText(error, t("err.empty_line"));
    show(error, true);
    input.focus();
    return;
  }
  const button = byId("line-button");
  button.disabled = true;
  try {
    await S.socket.request("line", { text });
    input.value = "";
    show(error, false);
    updateCounter();
  } catch (err) {
    setText(error, errorText(err));
    show(error, true);
  } finally {
    button.disabled = false;
  }
}

function renderAfter(s) {
  const st = S.state;
  const team = myTeam();
  const myVote = S.you ? S.you.my_vote : null;
  const help = { reveal: t("story.waiting_reveal"), voting: t("story.vote_help"), results: "" }[s.stage] || "";
  setText(byId("story-after-help"), help);
  show(byId("story-after-help"), !!help);
  if (s.stage !== "voting") show(byId("vote-flash"), false);

  const box = byId("story-countdown-box");
  if (s.stage === "voting" && s.vote_deadline_at) {
    show(box, true);
    storyCountdown.set({ deadlineAt: s.vote_deadline_at, total: null, key: `vote:${s.round_index}` });
  } else {
    show(box, false);
    storyCountdown.stop();
  }
  show(byId("story-paused"), false);

  const winners = new Set(s.winners || []);
  const entries = s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean);
  keyed(
    byId("story-cards"),
    entries,
    (e) => e.team_id,
    (e) => JSON.stringify([e, s.stage, myVote, team, (s.vote_counts || {})[e.team_id], (s.points || {})[e.team_id], winners.has(e.team_id), lang]),
    (e) => {
      const own = e.team_id === team;
      const chosen = myVote === e.team_id;
      const revealed = e.lines !== undefined;
      let action = null;
      if (s.stage === "voting") {
        action = own
          ? h("p", { class: "muted small" }, t("story.own_team"))
          : h(
              "button",
              {
                type: "button",
                class: ["btn", "btn-block", chosen ? "btn-primary" : ""],
                "aria-pressed": String(chosen),
                dataset: { fk: `vote-${e.team_id}` },
                onclick: () => vote(e.team_id, e.name),
              },
              chosen ? [h("span", { "aria-hidden": "true" }, "✓"), t("story.your_vote")] : t("story.vote_for", { team: e.name }),
            );
      } else if (s.stage === "results") {
        const votes = (s.vote_counts || {})[e.team_id] || 0;
        action = h(
          "p",
          { class: "row" },
          winners.has(e.team_id) ? h("span", { class: "verdict verdict-correct" }, icon("trophy"), t("story.winner")) : null,
          h("strong", {}, t(votes === 1 ? "story.votes_one" : "story.votes", { n: votes })),
          h("span", { class: "muted" }, t("story.points", { n: (s.points || {})[e.team_id] || 0 })),
        );
      }
      return h(
        "li",
        { class: ["vote-card", `team-${teamSlot(teamsInRoomOrder(st), e.team_id)}`, chosen && "chosen"] },
        h("h3", {}, h("span", { class: "team-dot", "aria-hidden": "true" }), e.name, own ? h("span", { class: "tag" }, t("common.you")) : null),
        revealed ? storyText(e, st) : h("p", { class: "muted" }, t("story.not_revealed")),
        action,
      );
    },
  );
}

async function vote(teamId, name) {
  try {
    await S.socket.request("vote", { team: teamId });
    const el = byId("vote-flash");
    fill(el, h("span", { "aria-hidden": "true" }, "✓ "), t("story.voted", { team: name }));
    show(el, true);
  } catch (err) {
    const el = byId("vote-flash");
    setText(el, errorText(err));
    show(el, true);
  }
}

// ---- between rounds and the end ---------------------------------------------------------------

function renderBetween() {
  const st = S.state;
  const next = st.pack && st.round ? st.pack.rounds[st.round.index + 1] : null;
  setText(byId("between-next"), next ? t("between.next", { title: next.title }) : "");
}

function renderFinished() {
  const st = S.state;
  const team = st.teams.find((x) => x.id === myTeam());
  setText(byId("finished-rank"), team ? t("finished.your_rank", { n: team.rank }) : "");
}

// ---- wiring -----------------------------------------------------------------------------------------

async function leave() {
  if (!S.socket) return;
  const ok = await askConfirm(t("player.leave_confirm"), t("player.leave"));
  if (!ok) return;
  try {
    await S.socket.request("leave");
  } catch {
    /* leaving anyway */
  }
  if (S.socket) S.socket.stop();
  S.socket = null;
  store.remove(playerKey(code));
  S.state = null;
  S.you = null;
  showMessage("left");
}

function main() {
  initI18n();
  mountIcons();
  byId("join-form").addEventListener("submit", onJoinSubmit);
  byId("guess-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendGuess(byId("guess-input").value);
  });
  byId("composer").addEventListener("submit", sendLine);
  const line = byId("line-input");
  line.addEventListener("input", () => {
    // Lines are single lines: pasted line breaks become spaces.
    if (/[\r\n]/.test(line.value)) line.value = line.value.replace(/[\r\n]+/g, " ");
    updateCounter();
  });
  line.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      byId("composer").requestSubmit();
    }
  });
  byId("leave-button").addEventListener("click", leave);
  byId("message-action").addEventListener("click", () => openJoin());
  byId("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const other = normalizeCode(byId("other-code").value);
    if (CODE_RE.test(other)) location.assign(`/r/${encodeURIComponent(other)}`);
    else byId("other-code").focus();
  });
  document.addEventListener("langchange", () => {
    byId("me-bar").dataset.sig = "";
    byId("story-prompt").dataset.sig = "";
    byId("my-story").dataset.sig = "";
    if (S.view === "join") renderJoin();
    if (S.view === "message" && S.lastMessage) showMessage(S.lastMessage.kind, S.lastMessage.detail);
    render();
  });
  // Team sizes on the join form are refreshed when the page comes back into view
  // (not polled: room lookups are rate-limited per address, and a whole office
  // may share one).
  document.addEventListener("visibilitychange", async () => {
    if (document.hidden || S.view !== "join" || S.joining) return;
    try {
      const info = await fetchRoom(code);
      if (info && S.view === "join") {
        S.info = info;
        renderJoin();
      }
    } catch {
      /* keep what we have */
    }
  });
  // Hint unlock times tick down every second.
  setInterval(() => {
    if (S.view === "game" && S.state && S.state.phase === "riddle" && S.state.riddle && S.state.riddle.stage === "open") renderHints();
  }, 1000);

  if (!CODE_RE.test(code)) {
    showMessage("not_found");
    return;
  }
  const saved = session();
  if (saved && saved.token) {
    S.me = { id: saved.player_id, name: saved.name };
    showView("game");
    startSocket();
  } else {
    openJoin();
  }
}

main();
