// The console's riddle panel: the riddle with its answers (only the host sees
// them), the hints, and every team's guesses live, with "accept" for a guess
// the matching was too strict about.

import { h, byId, fill, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { Countdown } from "../countdown.js";
import { teamSlot, teamsInRoomOrder, verdictBadge } from "../common.js";

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
    const key = `${r.round_index}:${r.index}`;
    setText(byId("riddle-kicker"), st.round ? st.round.title : "");
    setText(byId("riddle-heading"), t("riddle.count", { n: r.index + 1, count: r.count }));
    setText(byId("riddle-text"), r.text);
    const open = r.stage === "open";
    if (open) this.countdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
    else this.countdown.set({ deadlineAt: null, key });
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
