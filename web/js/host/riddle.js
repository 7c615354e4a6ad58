// The console's riddle panel: the riddle with its answers (only the host sees
// them), the hints, and every team's guesses live, with "accept" for a guess
// the matching was too strict about.
//
// Presenter-safe mode (for a facilitator who shares the console itself): while
// a riddle is open, its answers, explanation, hints and the text of correct and
// close guesses stay hidden until the host presses "Show the answer"; the next
// riddle starts hidden again. The choice is kept on this device.

import { h, byId, fill, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { Countdown } from "../countdown.js";
import { store, teamSlot, teamsInRoomOrder, verdictBadge } from "../common.js";

const SAFE_KEY = "ritrovo.presenterSafe";

/** @import { Guess, Riddle, RoomState, Team } from "../types.js" */

/**
 * @callback AcceptGuess
 * @param {Team} team
 * @param {Guess} guess
 * @returns {void}
 */

export class RiddlePanel {
  /** @param {AcceptGuess} accept */
  constructor(accept) {
    this.accept = accept;
    this.countdown = new Countdown(byId("riddle-countdown"));
    /** Presenter-safe mode: spoilers wait for "Show the answer". */
    this.safe = store.get(SAFE_KEY) === true;
    /** @type {string | null} the riddle ("round:index") whose answer the host chose to show */
    this.shownKey = null;
    /** @type {string | null} the riddle on show */
    this.key = null;
    /** @type {(() => void) | null} render again (set by the first render) */
    this.rerender = null;
    const toggle = byId("safe-toggle", HTMLInputElement);
    toggle.checked = this.safe;
    toggle.addEventListener("change", () => {
      this.safe = toggle.checked;
      store.set(SAFE_KEY, this.safe);
      if (this.rerender) this.rerender();
    });
    byId("btn-show-answer").addEventListener("click", () => {
      this.shownKey = this.shownKey === this.key ? null : this.key;
      if (this.rerender) this.rerender();
    });
  }

  stop() {
    this.countdown.stop();
  }

  /**
   * @param {RoomState} st
   * @param {Riddle | null} r the riddle, while one is on
   */
  render(st, r) {
    show(byId("riddle-panel"), !!r);
    if (!r) {
      this.countdown.stop();
      return;
    }
    this.rerender = () => this.render(st, r);
    const key = `${r.round_index}:${r.index}`;
    this.key = key;
    setText(byId("riddle-kicker"), st.round ? st.round.title : "");
    setText(byId("riddle-heading"), t("riddle.count", { n: r.index + 1, count: r.count }));
    setText(byId("riddle-text"), r.text);
    const open = r.stage === "open";
    if (open) this.countdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
    else this.countdown.set({ deadlineAt: null, key });
    show(byId("riddle-paused"), open && r.paused);
    // Once revealed to everyone nothing is secret any more.
    const masked = this.safe && open && this.shownKey !== key;
    const showButton = byId("btn-show-answer");
    show(showButton, this.safe && open);
    setText(showButton, t(masked ? "host.show_answer" : "host.hide_answer"));
    showButton.setAttribute("aria-expanded", String(!masked));
    show(byId("riddle-masked"), masked);
    const secret = r.secret || { answers: r.reveal ? [r.reveal.answer] : [], explanation: "" };
    setText(byId("riddle-answers"), masked ? "" : secret.answers.join(" · "));
    setText(byId("riddle-explanation"), masked ? "" : secret.explanation);
    show(byId("riddle-answers"), !masked);
    show(byId("riddle-explanation"), !masked && !!secret.explanation);
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
          masked ? null : h("p", { class: "hint-text" }, hint.text || ""),
        ),
      ),
    );

    const guesses = r.guesses || {};
    keyed(
      byId("host-guesses"),
      teamsInRoomOrder(st),
      (team) => team.id,
      (team) => JSON.stringify([team.name, guesses[team.id], r.progress[team.id], r.stage, masked, lang]),
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
                  // A correct or close guess gives the answer away.
                  const spoiler = masked && (g.verdict === "correct" || g.verdict === "near");
                  return h(
                    "li",
                    { class: "guess-row" },
                    verdictBadge(g.verdict, g.accepted_by_host),
                    h(
                      "span",
                      {},
                      spoiler ? h("span", { class: "guess-text muted" }, `(${t("host.guess_hidden")})`) : h("span", { class: "guess-text" }, g.text),
                      " ",
                      h("span", { class: "guess-by" }, t("riddle.by", { name: g.player_name })),
                    ),
                    g.nudge && !masked ? h("span", { class: "guess-nudge" }, g.nudge) : null,
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
                              onclick: () => this.accept(team, g),
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
}
