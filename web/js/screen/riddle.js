// The screen's riddle: big text, the options (with how many teams chose each
// once revealed), the clock, the answer, and which teams solved it.

import { h, byId, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { Countdown } from "../countdown.js";
import { announce, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { Riddle, RoomState } from "../types.js" */

export class RiddleStage {
  constructor() {
    this.countdown = new Countdown(byId("riddle-countdown"), {
      bar: byId("riddle-timebar"),
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s })),
    });
  }

  stop() {
    this.countdown.stop();
  }

  /**
   * @param {RoomState} st
   * @param {Riddle} r
   */
  render(st, r) {
    const teams = teamsInRoomOrder(st);
    /** @param {string} teamId */
    const slotOf = (teamId) => teamSlot(teams, teamId);
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
    if (open) this.countdown.set({ deadlineAt: r.deadline_at, paused: r.paused, remaining: r.remaining, total: r.time_limit, key });
    else this.countdown.set({ deadlineAt: null, key });

    show(byId("riddle-reveal"), !open);
    if (reveal) {
      setText(byId("riddle-answer"), reveal.answer);
      setText(byId("riddle-explanation"), reveal.explanation);
    }

    keyed(
      byId("riddle-progress"),
      teams,
      (team) => team.id,
      (team) => JSON.stringify([team.name, r.progress[team.id], slotOf(team.id), open, lang]),
      (team) => {
        const p = r.progress[team.id] || { solved: false, guesses: 0 };
        return h(
          "li",
          { class: [`team-${slotOf(team.id)}`, p.solved && "solved"] },
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          team.name,
          p.solved
            ? h("span", {}, "✓ ", t("riddle.progress_solved"))
            : h("span", { class: "muted" }, open ? "…" : t("riddle.progress_missed")),
        );
      },
    );
  }
}
