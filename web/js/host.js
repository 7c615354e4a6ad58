// The host console (/host/CODE): room, pack, teams, and running the game.

import { h, byId, fill, show, setText, keyed, downloadBlob } from "./dom.js";
import { initI18n, t, lang } from "./i18n.js";
import { icon, mountIcons } from "./icons.js";
import { RoomSocket } from "./net.js";
import { Countdown, clock, formatSeconds } from "./countdown.js";
import {
  announce,
  askConfirm,
  codeFromPath,
  connectionIndicator,
  errorText,
  fetchRoom,
  hostKey,
  momentKey,
  momentText,
  playerName,
  presence,
  promptMeta,
  rememberHostedRoom,
  renderScoreboard,
  store,
  storyText,
  teamSlot,
  teamsInRoomOrder,
  toast,
  verdictBadge,
  noticeBanner,
  connectionBanner,
} from "./common.js";

const code = codeFromPath();
const S = {
  token: null,
  info: null,
  packs: [],
  state: null,
  seq: -1,
  socket: null,
  busy: null, // {seq, acked} while a game command is in flight
  view: null,
};

const riddleCountdown = new Countdown(byId("riddle-countdown"));
let setConn = () => {};

// ---- token and views ----------------------------------------------------------------------------

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

function showView(name) {
  S.view = name;
  show(byId("token-view"), name === "token");
  show(byId("message-view"), name === "message");
  show(byId("console"), name === "console");
  show(byId("conn"), name === "console");
  if (name !== "console") show(byId("conn-banner"), false);
}

function showTokenForm(error = "") {
  showView("token");
  const el = byId("token-error");
  el.textContent = error;
  show(el, !!error);
  byId("token-input").focus();
}

function showMessage(kind, detail = "") {
  riddleCountdown.stop();
  showView("message");
  fill(byId("message-icon"), icon(kind === "closed" ? "wave" : "search"));
  setText(byId("message-title"), kind === "closed" ? t("host.closed") : t("join.room_missing", { code }));
  setText(byId("message-text"), detail);
}

// ---- connection ------------------------------------------------------------------------------------

function connect() {
  if (S.socket) S.socket.stop();
  const connBanner = connectionBanner(byId("conn-banner"), () => S.view === "console");
  const socket = new RoomSocket({
    hello: () => ({ type: "host", room: code, token: S.token }),
    onWelcome: () => {
      rememberHostedRoom(code, S.info ? S.info.name : "");
      if (S.view !== "console") showView("console");
    },
    onState: (state, seq) => {
      S.state = state;
      S.seq = seq;
      if (S.busy && S.busy.acked && seq > S.busy.seq) S.busy = null;
      render();
    },
    onStatus: (status, detail) => {
      setConn(status, detail);
      connBanner(status);
    },
    onNotice: noticeBanner(byId("notice-banner")),
    onFatal: (err) => {
      S.socket = null;
      if (err.code === "bad_host_token") {
        store.remove(hostKey(code));
        showTokenForm(t("err.bad_host_token"));
      } else if (err.code === "room_closed") {
        showMessage("closed");
      } else {
        showMessage("missing", errorText(err));
      }
    },
  });
  S.socket = socket;
  setConn = connectionIndicator(byId("conn"), socket);
  socket.start();
}

/** A command to the server; game commands block the controls until their state arrives. */
async function command(type, fields = {}, { game = false } = {}) {
  if (!S.socket) return null;
  if (game) {
    if (S.busy) return null;
    S.busy = { seq: S.seq, acked: false };
    renderControls();
  }
  const errorEl = byId("game-error");
  try {
    const result = await S.socket.request(type, fields);
    if (game && S.busy) {
      S.busy.acked = true;
      if (S.seq > S.busy.seq) S.busy = null;
      // Safety net: never leave the controls blocked.
      const mine = S.busy;
      setTimeout(() => {
        if (S.busy === mine) {
          S.busy = null;
          renderControls();
        }
      }, 4000);
    }
    show(errorEl, false);
    return result;
  } catch (err) {
    if (game) S.busy = null;
    errorEl.textContent = errorText(err);
    show(errorEl, true);
    toast(errorText(err), { bad: true });
    return null;
  } finally {
    if (game) renderControls();
  }
}

// ---- rendering --------------------------------------------------------------------------------------

function render() {
  const st = S.state;
  if (!st || S.view !== "console") return;
  setText(byId("room-title"), st.name);
  document.title = `${st.name} · ${t("host.title")}`;
  if (st.phase === "closed") {
    showMessage("closed");
    return;
  }
  renderRoom();
  renderPack();
  renderControls();
  renderRiddlePanel();
  renderStoryPanel();
  renderTeams();
  renderScoreboard(byId("scoreboard"), st, { players: false });
  show(byId("final-panel"), st.phase === "finished");
  if (st.phase === "finished") renderScoreboard(byId("final-scoreboard"), st, { players: true });
  renderMoments();
}

function renderRoom() {
  const st = S.state;
  setText(byId("room-code"), st.code);
  const qr = byId("room-qr");
  if (!qr.getAttribute("src")) qr.src = `/api/rooms/${encodeURIComponent(st.code)}/qr.svg`;
  qr.alt = t("host.qr_alt");
  const joinUrl = S.info ? S.info.join_url : `${location.origin}/r/${st.code}`;
  const joinInput = byId("join-link");
  if (joinInput.value !== joinUrl) joinInput.value = joinUrl;
  const screenUrl = S.info ? S.info.screen_url : `${location.origin}/screen/${st.code}`;
  byId("screen-link").href = screenUrl;
  const base = S.info ? S.info.host_url : `${location.origin}/host/${st.code}`;
  const consoleUrl = `${base}#token=${encodeURIComponent(S.token)}`;
  if (byId("console-link").value !== consoleUrl) byId("console-link").value = consoleUrl;
  byId("lock-toggle").checked = !!st.locked;
  byId("auto-toggle").checked = !!st.auto_advance;
}

function renderPack() {
  const st = S.state;
  const canChange = st.phase === "lobby" || st.phase === "finished";
  setText(
    byId("pack-current"),
    st.pack ? t("host.pack_current", { title: `${st.pack.title} (${st.pack.language.toUpperCase()})` }) : t("host.pack_none"),
  );
  show(byId("pack-locked"), !canChange);
  const select = byId("pack-select");
  const sig = JSON.stringify([S.packs.map((p) => p.id), lang]);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    const keep = select.value || (st.pack ? st.pack.id : "");
    fill(
      select,
      S.packs.map((p) => h("option", { value: p.id, lang: p.language }, `${p.title} (${p.language.toUpperCase()})`)),
    );
    if (keep && S.packs.some((p) => p.id === keep)) select.value = keep;
  }
  select.disabled = !canChange;
  byId("btn-choose-pack").disabled = !canChange || !S.packs.length;
  byId("pack-file").disabled = !canChange;
  byId("btn-upload").disabled = !canChange;
}

/** What "next" does from here, for its label. */
function nextStep() {
  const st = S.state;
  switch (st.phase) {
    case "lobby":
      return { key: "host.next.start", enabled: !!st.pack };
    case "between_rounds":
      return { key: "host.next.next_round", enabled: true };
    case "riddle": {
      const r = st.riddle;
      if (!r) return { key: "host.next.generic", enabled: false };
      const more = r.index + 1 < r.count;
      return { key: more ? "host.next.next_riddle" : "host.next.end_round", enabled: r.stage === "revealed" };
    }
    case "story": {
      const s = st.story;
      if (!s) return { key: "host.next.generic", enabled: false };
      if (s.stage === "writing") return { key: "host.next.end_writing", enabled: true };
      if (s.stage === "reveal") {
        const more = s.reveal_index + 1 < s.reveal_order.length;
        return { key: more ? "host.next.reveal_story" : "host.next.open_voting", enabled: true };
      }
      if (s.stage === "voting") return { key: "host.next.close_voting", enabled: true };
      return { key: "host.next.end_round", enabled: true };
    }
    default:
      return { key: "host.next.generic", enabled: false };
  }
}

function renderControls() {
  const st = S.state;
  if (!st) return;
  const busy = !!S.busy;
  const r = st.phase === "riddle" ? st.riddle : null;
  const s = st.phase === "story" ? st.story : null;
  const riddleOpen = !!r && r.stage === "open";
  const writing = !!s && s.stage === "writing";
  const paused = (riddleOpen && r.paused) || (writing && s.paused);

  const next = nextStep();
  const nextButton = byId("btn-next");
  setText(nextButton, t(next.key));
  nextButton.disabled = busy || !next.enabled;

  const showRound = st.round && st.phase !== "finished" && st.phase !== "lobby";
  const phaseText = [t(`phase.${st.phase}`), showRound ? t("common.round", { n: st.round.index + 1, count: st.round.count }) : ""]
    .filter(Boolean)
    .join(" · ");
  setText(byId("game-status"), phaseText);

  const set = (id, enabled, visible = true) => {
    const b = byId(id);
    b.disabled = busy || !enabled;
    show(b, visible);
  };
  set("btn-pause", (riddleOpen || writing) && !paused, !paused);
  set("btn-resume", paused, paused);
  set("btn-extend", riddleOpen || writing);
  set("btn-reveal", riddleOpen, st.phase === "riddle" || st.phase === "lobby" || st.phase === "between_rounds");
  set("btn-skip", riddleOpen, st.phase === "riddle" || st.phase === "lobby" || st.phase === "between_rounds");
  set("btn-end-writing", writing, !!s);
  set("btn-close-voting", !!s && s.stage === "voting", !!s);
  set("btn-finish", st.phase !== "finished" && st.phase !== "closed");
  byId("auto-toggle").disabled = busy;
}

function renderRiddlePanel() {
  const st = S.state;
  const r = st.phase === "riddle" ? st.riddle : null;
  show(byId("riddle-panel"), !!r);
  if (!r) {
    riddleCountdown.stop();
    return;
  }
  const key = `${r.round_index}:${r.index}`;
  setText(byId("riddle-kicker"), st.round ? st.round.title : "");
  setText(byId("riddle-heading"), t("riddle.count", { n: r.index + 1, count: r.count }));
  setText(byId("riddle-text"), r.text);
  const open = r.stage === "open";
  if (open) riddleCountdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
  else riddleCountdown.set({ deadlineAt: null, key });
  show(byId("riddle-paused"), open && r.paused);
  const secret = r.secret || { answers: r.reveal ? [r.reveal.answer] : [], explanation: "" };
  setText(byId("riddle-answers"), secret.answers.join(" · "));
  setText(byId("riddle-explanation"), secret.explanation);
  fill(
    byId("riddle-options"),
    r.options.map((o, i) => h("li", {}, `${String.fromCharCode(65 + i)}. `, o)),
  );
  fill(
    byId("riddle-hints"),
    r.hints.map((hint) =>
      h(
        "li",
        { class: ["hint", hint.unlocked && "open"] },
        h("span", { class: "hint-title" }, t("riddle.hint_n", { n: hint.index + 1 })),
        ` · ${hint.after} s · ${t("riddle.hint_cost", { cost: hint.cost })} `,
        hint.unlocked ? null : icon("lock"),
        h("p", { class: "hint-text" }, hint.text || ""),
      ),
    ),
  );

  const guesses = r.guesses || {};
  keyed(
    byId("host-guesses"),
    teamsInRoomOrder(st),
    (team) => team.id,
    (team) => JSON.stringify([team.name, guesses[team.id], r.progress[team.id], r.stage, lang]),
    (team) => {
      const progress = r.progress[team.id] || { solved: false, elapsed: null, hints_opened: 0 };
      const rows = guesses[team.id] || [];
      return h(
        "div",
        { class: `team-${teamSlot(teamsInRoomOrder(st), team.id)}` },
        h(
          "h3",
          {},
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          team.name,
          progress.solved ? verdictBadge("correct") : null,
          progress.hints_opened ? h("span", { class: "pill" }, `${t("riddle.hints")}: ${progress.hints_opened}`) : null,
        ),
        rows.length
          ? h(
              "ul",
              { class: "guess-list" },
              [...rows].reverse().map((g) => {
                const canAccept = g.verdict !== "correct" && !(progress.solved && progress.elapsed !== null && progress.elapsed <= g.elapsed);
                return h(
                  "li",
                  { class: "guess-row" },
                  verdictBadge(g.verdict, g.accepted_by_host),
                  h("span", {}, h("span", { class: "guess-text" }, g.text), " ", h("span", { class: "guess-by" }, t("riddle.by", { name: g.player_name }))),
                  g.nudge ? h("span", { class: "guess-nudge" }, g.nudge) : null,
                  canAccept
                    ? h(
                        "span",
                        { class: "row-actions" },
                        h(
                          "button",
                          {
                            type: "button",
                            class: "btn btn-small",
                            "aria-label": t("host.accept_label", { text: g.text, team: team.name }),
                            dataset: { fk: `accept-${team.id}-${g.index}` },
                            onclick: () => command("accept_guess", { team: team.id, guess: g.index }, { game: true }),
                          },
                          "✓ ",
                          t("host.accept"),
                        ),
                      )
                    : null,
                );
              }),
            )
          : h("p", { class: "muted small" }, "…"),
      );
    },
  );
}

function renderStoryPanel() {
  const st = S.state;
  const s = st.phase === "story" ? st.story : null;
  show(byId("story-panel"), !!s);
  if (!s) return;
  setText(byId("story-kicker"), s.title);
  const headings = { writing: "story.write_title", reveal: "story.reveal_title", voting: "story.vote_title", results: "story.results" };
  setText(byId("story-heading"), t(headings[s.stage] || "story.write_title"));
  let info = "";
  if (s.stage === "voting") info = t("story.voters", { n: (s.voters || []).length, total: st.players_count });
  if (s.paused) info = t("common.paused");
  setText(byId("story-info"), info);
  show(byId("story-info"), !!info);
  const entries = s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean);
  const winners = new Set(s.winners || []);
  keyed(
    byId("host-stories"),
    entries,
    (e) => e.team_id,
    (e) =>
      JSON.stringify([
        e,
        s.stage,
        (s.live_counts || {})[e.team_id],
        (s.vote_counts || {})[e.team_id],
        winners.has(e.team_id),
        playerName(st, e.writer),
        e.writer ? Math.ceil(writerLeft(e, s)) : 0,
        lang,
      ]),
    (e) => {
      const counts = s.stage === "results" ? s.vote_counts : s.live_counts;
      const votes = counts ? counts[e.team_id] || 0 : null;
      return h(
        "div",
        { class: ["vote-card", `team-${teamSlot(teamsInRoomOrder(st), e.team_id)}`] },
        h(
          "h3",
          {},
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          e.name,
          e.revealed && s.stage === "reveal" ? h("span", { class: "pill" }, t("host.revealed")) : null,
          winners.has(e.team_id) ? h("span", { class: "verdict verdict-correct" }, icon("trophy"), t("story.winner")) : null,
        ),
        promptMeta(e.prompt),
        e.done
          ? h("p", { class: "small muted" }, "✓ ", t("story.done"))
          : e.writer
            ? h("p", { class: "small" }, icon("pen"), " ", t("host.writer_now", { name: playerName(st, e.writer) }), " · ", formatSeconds(writerLeft(e, s)))
            : null,
        storyText(e, st, {
          lineAction: (line) =>
            h(
              "button",
              {
                type: "button",
                class: "btn btn-small btn-ghost",
                "aria-label": line.hidden ? t("host.unhide_label") : t("host.hide_label"),
                dataset: { fk: `hide-${e.team_id}-${line.index}` },
                onclick: () => command("hide_line", { team: e.team_id, line: line.index, hidden: !line.hidden }),
              },
              line.hidden ? t("host.unhide") : t("host.hide"),
            ),
        }),
        votes === null ? null : h("p", { class: "row" }, h("strong", {}, t(votes === 1 ? "story.votes_one" : "story.votes", { n: votes })), s.points ? h("span", { class: "muted" }, t("story.points", { n: s.points[e.team_id] || 0 })) : null),
      );
    },
  );
}

function writerLeft(e, s) {
  if (s.paused) return e.seconds_left || 0;
  if (!e.turn_deadline_at) return 0;
  return Math.max(0, e.turn_deadline_at - clock.now());
}

function renderTeams() {
  const st = S.state;
  const teams = teamsInRoomOrder(st);
  const inRound = st.phase === "riddle" || st.phase === "story";
  keyed(
    byId("team-admin"),
    teams,
    (team) => team.id,
    (team) => JSON.stringify([team, teams.length, inRound, teams.map((x) => [x.id, x.name]), lang]),
    (team) =>
      h(
        "li",
        { class: `team-${teamSlot(teams, team.id)}` },
        h(
          "div",
          { class: "team-admin-head" },
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          h("span", { class: "score-name" }, team.name, " ", h("span", { class: "muted small nowrap" }, t("common.points", { n: team.score }))),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small btn-ghost",
              "aria-label": t("host.rename_team_label", { team: team.name }),
              dataset: { fk: `rename-${team.id}` },
              onclick: () => renameTeam(team),
            },
            t("host.rename"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small btn-ghost",
              disabled: inRound || teams.length < 2,
              "aria-label": t("host.delete_label", { team: team.name }),
              dataset: { fk: `delete-${team.id}` },
              onclick: () => deleteTeam(team),
            },
            t("host.delete"),
          ),
        ),
        team.players.length
          ? h(
              "ul",
              { class: "player-admin" },
              team.players.map((p) =>
                h(
                  "li",
                  {},
                  presence(p),
                  h("span", { class: "pname" }, p.name, " ", h("span", { class: "muted small nowrap" }, t("common.points", { n: p.points }))),
                  teams.length > 1
                    ? h(
                        "button",
                        {
                          type: "button",
                          class: "btn btn-small",
                          "aria-label": t("host.move_to", { name: p.name }),
                          dataset: { fk: `move-${p.id}` },
                          onclick: () => movePlayer(p, team),
                        },
                        t("host.move"),
                      )
                    : null,
                  h(
                    "button",
                    {
                      type: "button",
                      class: "btn btn-small btn-danger",
                      "aria-label": t("host.kick_label", { name: p.name }),
                      dataset: { fk: `kick-${p.id}` },
                      onclick: () => kick(p),
                    },
                    t("host.kick"),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted small" }, t("common.no_players")),
      ),
  );
}

function renderMoments() {
  const st = S.state;
  const moments = [...(st.moments || [])].reverse();
  keyed(
    byId("moments"),
    moments,
    momentKey,
    (m) => JSON.stringify([momentText(st, m), lang]),
    (m) => h("li", {}, h("span", { class: "muted small" }, new Date((m.at - clock.offset) * 1000).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })), " ", momentText(st, m)),
  );
}

// ---- dialogs for team admin ------------------------------------------------------------------------

let dialogs = 0;

/** A small modal form; resolves with the form's values, or null when cancelled. */
function askForm(title, fields, okLabel) {
  return new Promise((resolve) => {
    const id = `dlg-${++dialogs}`;
    const form = h("form", { method: "dialog", class: "stack" }, h("p", { id, class: "confirm-message" }, title), fields, h(
      "div",
      { class: "row confirm-actions" },
      h("button", { class: "btn", value: "cancel", type: "submit", formnovalidate: true }, t("common.cancel")),
      h("button", { class: "btn btn-primary", value: "ok", type: "submit" }, okLabel),
    ));
    const dlg = h("dialog", { class: "confirm-dialog", "aria-labelledby": id }, form);
    dlg.addEventListener("close", () => {
      const values = dlg.returnValue === "ok" ? Object.fromEntries(new FormData(form).entries()) : null;
      dlg.remove();
      resolve(values);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector("input, select");
    if (first) first.focus();
  });
}

async function renameTeam(team) {
  const inputId = `rename-input-${team.id}`;
  const values = await askForm(
    t("host.rename_label", { team: team.name }),
    h("div", { class: "field" }, h("label", { for: inputId }, t("host.rename")), h("input", { id: inputId, name: "name", value: team.name, maxlength: 32, required: true, autocomplete: "off" })),
    t("common.save"),
  );
  if (values && values.name.trim() && values.name.trim() !== team.name) {
    await command("rename_team", { team: team.id, name: values.name.trim() });
  }
}

async function deleteTeam(team) {
  if (await askConfirm(t("host.delete_team_confirm", { team: team.name }), t("host.delete_team"))) {
    await command("delete_team", { team: team.id });
  }
}

async function movePlayer(player, from) {
  const others = teamsInRoomOrder(S.state).filter((x) => x.id !== from.id);
  const selectId = `move-select-${player.id}`;
  const values = await askForm(
    t("host.move_to", { name: player.name }),
    h(
      "div",
      { class: "field" },
      h("label", { for: selectId }, t("common.team")),
      h("select", { id: selectId, name: "team" }, others.map((x) => h("option", { value: x.id }, x.name))),
    ),
    t("host.done"),
  );
  if (values && values.team) await command("move_player", { player: player.id, team: values.team });
}

async function kick(player) {
  if (await askConfirm(t("host.kick_confirm", { name: player.name }), t("host.kick"))) {
    await command("kick", { player: player.id });
  }
}

// ---- packs, downloads, copy ---------------------------------------------------------------------------

async function loadPacks() {
  try {
    const response = await fetch("/api/packs");
    S.packs = (await response.json()).packs || [];
  } catch {
    S.packs = [];
  }
  if (S.state) renderPack();
}

async function uploadPack(event) {
  event.preventDefault();
  const file = byId("pack-file").files[0];
  const out = byId("upload-result");
  if (!file) {
    byId("pack-file").focus();
    return;
  }
  fill(out, h("p", { class: "muted" }, t("common.loading")));
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(code)}/pack?filename=${encodeURIComponent(file.name)}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${S.token}` },
      body: file,
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      fill(out, h("p", { class: "verdict-flash correct" }, "✓ ", t("host.pack_uploaded", { title: body.pack ? body.pack.title : file.name })));
      byId("pack-file").value = "";
      return;
    }
    const err = body.error || { code: `http_${response.status}`, message: response.statusText };
    if (err.code === "invalid_pack" && Array.isArray(err.problems)) {
      fill(
        out,
        h("p", { class: "form-error" }, t("host.pack_problems")),
        h(
          "ul",
          { class: "problems", id: "pack-problems" },
          err.problems.map((p) => {
            const where = p.line === null || p.line === undefined ? p.file : `${p.file}:${p.line}`;
            return h("li", {}, p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`);
          }),
        ),
      );
    } else {
      fill(out, h("p", { class: "form-error" }, errorText(err)));
    }
  } catch (err) {
    fill(out, h("p", { class: "form-error" }, t("common.error", { message: String(err.message || err) })));
  }
}

async function download(what) {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(code)}/${what}`, {
      headers: { Authorization: `Bearer ${S.token}` },
      cache: "no-store",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const err = body.error || { message: response.statusText };
      toast(t("host.download_failed", { message: err.message || response.status }), { bad: true });
      return;
    }
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    downloadBlob(blob, match ? match[1] : `ritrovo-${code}-${what}`);
  } catch (err) {
    toast(t("host.download_failed", { message: String(err.message || err) }), { bad: true });
  }
}

async function copyFrom(inputId, button) {
  const input = byId(inputId);
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

// ---- start ---------------------------------------------------------------------------------------------------

function wire() {
  byId("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = byId("token-input").value.trim();
    if (!token) return;
    S.token = token;
    store.set(hostKey(code), token);
    showView("console");
    connect();
  });
  byId("btn-next").addEventListener("click", () => command("next", {}, { game: true }));
  byId("btn-pause").addEventListener("click", () => command("pause", {}, { game: true }));
  byId("btn-resume").addEventListener("click", () => command("resume", {}, { game: true }));
  byId("btn-extend").addEventListener("click", () => command("extend", { seconds: 30 }, { game: true }));
  byId("btn-reveal").addEventListener("click", () => command("reveal", {}, { game: true }));
  byId("btn-skip").addEventListener("click", () => command("skip", {}, { game: true }));
  byId("btn-end-writing").addEventListener("click", () => command("end_writing", {}, { game: true }));
  byId("btn-close-voting").addEventListener("click", () => command("close_voting", {}, { game: true }));
  byId("btn-finish").addEventListener("click", async () => {
    if (await askConfirm(t("host.finish_confirm"), t("host.finish"))) command("finish", {}, { game: true });
  });
  byId("btn-close-room").addEventListener("click", async () => {
    if (await askConfirm(t("host.close_confirm"), t("host.close_room"))) command("close");
  });
  byId("auto-toggle").addEventListener("change", (e) => command("auto_advance", { enabled: e.target.checked }));
  byId("lock-toggle").addEventListener("change", (e) => command("lock", { locked: e.target.checked }));
  byId("btn-choose-pack").addEventListener("click", async () => {
    const pack = byId("pack-select").value;
    if (pack && (await command("choose_pack", { pack })) !== null) {
      fill(byId("upload-result"));
    }
  });
  byId("upload-form").addEventListener("submit", uploadPack);
  byId("team-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = byId("team-name");
    const name = input.value.trim();
    if (!name) return;
    const result = await command("create_team", { name });
    if (result) input.value = "";
  });
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copyFrom(button.dataset.copy, button));
  }
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => download(button.dataset.download));
  }
  document.addEventListener("langchange", () => {
    byId("pack-select").dataset.sig = "";
    render();
  });
  // Story turn timers tick every second on the console.
  setInterval(() => {
    if (S.view === "console" && S.state && S.state.phase === "story") renderStoryPanel();
  }, 1000);
}

async function main() {
  initI18n();
  mountIcons();
  wire();
  loadPacks();
  try {
    S.info = await fetchRoom(code);
  } catch {
    S.info = null;
  }
  S.token = readToken();
  if (!S.token) {
    showTokenForm();
    return;
  }
  showView("console");
  connect();
}

main();
