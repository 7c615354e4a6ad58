// The player's riddle: the text and countdown, the answer form or options,
// hints, the team's guesses, the other teams' progress, and the reveal.

import { h, byId, fill, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { Countdown, clock, formatSeconds } from "../countdown.js";
import { announce, errorText, teamName, teamSlot, teamsInRoomOrder, verdictBadge } from "../common.js";

/** @import { Hint, Riddle, RoomState, TeamAttempt, WireError } from "../types.js" */
/** @import { RoomSocket } from "../net.js" */
/** @import { Me } from "./me_bar.js" */

/**
 * A hint as the player sees it now.
 * @typedef {Hint & {n: number, state: "open" | "closed" | "locked" | "can_open" | "wait_previous", secs: number}} HintState
 */

/** @type {TeamAttempt} */
const NO_ATTEMPT = { guesses: [], hints_opened: 0, solved: false, points: 0, locked_out: false };

/** @param {Riddle} r */
function teamAttempt(r) {
  return r.team || NO_ATTEMPT;
}

/** The riddle phase of the player's page. */
export class RiddleView {
  /** @param {() => RoomSocket | null} socket the page's connection, when it has one */
  constructor(socket) {
    this.socket = socket;
    this.input = byId("guess-input", HTMLInputElement);
    this.countdown = new Countdown(byId("riddle-countdown"), {
      bar: byId("riddle-timebar"),
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }), { assertive: s <= 10 }),
    });
    /** @type {string | null} the riddle on show, "round:index" */
    this.key = null;
    /** How many of the team's guesses were already announced. */
    this.knownGuesses = 0;
    byId("guess-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.sendGuess(this.input.value);
    });
  }

  stop() {
    this.countdown.stop();
  }

  /**
   * @param {RoomState} st
   * @param {Riddle} r
   * @param {Me} me
   */
  render(st, r, me) {
    const key = `${r.round_index}:${r.index}`;
    const team = teamAttempt(r);
    if (key !== this.key) {
      this.key = key;
      this.knownGuesses = team.guesses.length;
      this.input.value = "";
      show(byId("verdict-flash"), false);
    }
    const round = st.round;
    setText(byId("riddle-round"), round ? `${round.title} · ${t("common.round", { n: round.index + 1, count: round.count })}` : "");
    setText(byId("riddle-count"), t("riddle.count", { n: r.index + 1, count: r.count }));
    setText(byId("riddle-text"), r.text);
    setText(byId("riddle-worth"), t("riddle.worth", { n: r.points }));
    const open = r.stage === "open";
    if (open) {
      this.countdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
    } else {
      this.countdown.set({ deadlineAt: null, key });
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
    if (hasOptions) this.renderOptions(r, team, canGuess);
    this.input.disabled = !canGuess;
    byId("guess-button", HTMLButtonElement).disabled = !canGuess;

    this.renderHints(r);
    this.renderGuesses(team, me);
    renderProgress(st, r, me);
    if (!open) renderReveal(st, r, me);
  }

  /**
   * @param {Riddle} r
   * @param {TeamAttempt} team
   * @param {boolean} canGuess
   */
  renderOptions(r, team, canGuess) {
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
            onclick: () => this.sendGuess(o.text, false),
          },
          h("span", { "aria-hidden": "true" }, `${String.fromCharCode(65 + o.index)}.`),
          " ",
          o.text,
        ),
    );
  }

  /**
   * The hints, again: their unlock times count down every second.
   * @param {Riddle} r
   */
  renderHints(r) {
    show(byId("hints-box"), r.hints.length > 0);
    keyed(
      byId("hint-list"),
      hintStates(r),
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
                { type: "button", class: "btn btn-accent btn-block", dataset: { fk: `hint-${hint.index}` }, onclick: () => this.openHint(hint) },
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

  /**
   * @param {TeamAttempt} team
   * @param {Me} me
   */
  renderGuesses(team, me) {
    const guesses = team.guesses;
    show(byId("no-guesses"), guesses.length === 0);
    // Announce teammates' new guesses (our own are announced by the verdict flash).
    if (guesses.length > this.knownGuesses) {
      for (const g of guesses.slice(this.knownGuesses)) {
        if (g.player_id !== me.id) {
          announce(`${g.player_name}: ${g.text}. ${t(`verdict.${g.verdict}`)}${g.nudge ? `. ${g.nudge}` : ""}`);
        }
      }
    }
    this.knownGuesses = guesses.length;
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

  /**
   * @param {string} text
   * @param {boolean} [fromInput] typed (then the input is cleared and focused again), not an option
   */
  async sendGuess(text, fromInput = true) {
    const value = String(text || "").trim();
    const socket = this.socket();
    if (!value || !socket) return;
    try {
      const result = await socket.request("guess", { text: value });
      if (fromInput) this.input.value = "";
      if (result.verdict === "correct") flash("correct", t("verdict.you_correct", { n: result.points }));
      else if (result.verdict === "near") flash("near", result.nudge || t("verdict.you_near_plain"));
      else flash("wrong", t("verdict.you_wrong", { text: value }));
    } catch (err) {
      flash("info", errorText(/** @type {WireError} */ (err)));
    }
    if (fromInput && !this.input.disabled) this.input.focus();
  }

  /** @param {HintState} hint */
  async openHint(hint) {
    const socket = this.socket();
    if (!socket) return;
    try {
      await socket.request("hint");
      announce(t("riddle.hint_opened", { cost: hint.cost }));
    } catch (err) {
      flash("info", errorText(/** @type {WireError} */ (err)));
    }
  }
}

/**
 * @param {Riddle} r
 * @returns {HintState[]}
 */
function hintStates(r) {
  const team = teamAttempt(r);
  const open = r.stage === "open";
  const left = r.paused ? r.remaining : Math.max(0, r.deadline_at - clock.now());
  const elapsed = r.time_limit - left;
  return r.hints.map((hint) => {
    const n = hint.index + 1;
    /** @type {HintState["state"]} */
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

/**
 * The other teams, solved or still working.
 * @param {RoomState} st
 * @param {Riddle} r
 * @param {Me} me
 */
function renderProgress(st, r, me) {
  const rows = teamsInRoomOrder(st)
    .filter((team) => team.id !== me.teamId)
    .map((team) => ({ team, p: r.progress[team.id] || { solved: false, guesses: 0 } }));
  keyed(
    byId("progress-list"),
    rows,
    (row) => row.team.id,
    (row) => JSON.stringify([row.team.name, row.p, r.stage, lang]),
    (row) =>
      h(
        "li",
        { class: `team-${teamSlot(teamsInRoomOrder(st), row.team.id)}` },
        h("span", { class: "team-dot", "aria-hidden": "true" }),
        h("span", { class: "grow" }, row.team.name),
        row.p.solved
          ? verdictBadge("correct")
          : r.stage === "open"
            ? h("span", { class: "muted small" }, t(row.p.guesses === 1 ? "riddle.progress_working_one" : "riddle.progress_working", { n: row.p.guesses }))
            : h("span", { class: "muted small" }, t("riddle.progress_missed")),
      ),
  );
}

/**
 * @param {RoomState} st
 * @param {Riddle} r
 * @param {Me} me
 */
function renderReveal(st, r, me) {
  const reveal = r.reveal || { answer: "", explanation: "", solvers: [], end_reason: "", spread: [] };
  setText(byId("reveal-answer"), reveal.answer);
  setText(byId("reveal-explanation"), reveal.explanation);
  // A skipped riddle scores nothing and so has no solvers (the server takes
  // back what was won on it), but it was not unsolved: a team whose answer
  // was right, even just before the skip, is told so, not "nobody solved it".
  const skipped = reveal.end_reason === "skipped";
  const skippedEl = byId("reveal-skipped");
  const hadItRight = teamAttempt(r).guesses.some((g) => g.verdict === "correct");
  setText(skippedEl, skipped ? t(hadItRight ? "riddle.skipped_solved" : "riddle.skipped") : "");
  show(skippedEl, skipped);
  show(byId("reveal-solvers-title"), !skipped);
  show(byId("reveal-solvers"), !skipped);
  const solvers = byId("reveal-solvers");
  if (skipped) {
    fill(solvers);
    return;
  }
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
        s.team_id === me.teamId ? h("span", { class: "tag" }, t("common.you")) : null,
      ),
    ),
  );
}

/**
 * What became of the player's own guess (or why it was not sent).
 * @param {"correct" | "near" | "wrong" | "info"} kind
 * @param {string} text
 */
function flash(kind, text) {
  const el = byId("verdict-flash");
  el.className = `verdict-flash ${kind}`;
  fill(el, kind === "info" ? null : [verdictBadge(kind), " "], h("span", { class: "flash-text" }, text));
  show(el, true);
}
