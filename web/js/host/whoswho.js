// The console during a "Who's who" round: while answers come in, how many
// answered or skipped and every answer to review, without its author (the
// server sends none before the reveal, not even here), each with a hide or
// show button; then the question, how many teams answered, and the reveal.
// "Start the questions", "Reveal" and "Next question" are the game controls.

import { h, byId, show, setText, keyed } from "../dom.js";
import { t } from "../i18n.js";
import { Countdown } from "../countdown.js";
import { teamName } from "../common.js";

/** @import { RoomState, WhosWho } from "../types.js" */

/** @typedef {(type: string, fields?: Record<string, unknown>) => Promise<unknown>} Send */

export class WhosWhoPanel {
  /** @param {Send} send */
  constructor(send) {
    this.send = send;
    this.countdown = new Countdown(byId("ww-countdown"));
  }

  /**
   * @param {RoomState} st
   * @param {WhosWho | null} ww null outside a Who's who round
   */
  render(st, ww) {
    show(byId("whoswho-panel"), !!ww);
    if (!ww) {
      this.countdown.stop();
      return;
    }
    setText(byId("ww-kicker"), st.round ? st.round.title : "");
    setText(byId("ww-counts"), t("whoswho.counts", { answered: ww.answered, skipped: ww.skipped }));
    const q = ww.question;
    show(byId("ww-review-box"), ww.stage === "answering");
    show(byId("ww-question-box"), !!q);
    show(byId("ww-countdown"), ww.stage === "open");
    show(byId("ww-paused"), ww.stage === "open" && !!q && q.paused);
    if (!q) {
      this.countdown.stop();
      setText(byId("ww-heading"), t("whoswho.title"));
      const rows = ww.review || [];
      show(byId("ww-no-answers"), rows.length === 0);
      keyed(
        byId("ww-review"),
        rows,
        (row) => row.id,
        (row) => JSON.stringify([row.text, row.hidden, row.prompt, ww.prompts[row.prompt]]),
        (row) =>
          h(
            "li",
            { class: row.hidden ? "ww-review-row muted" : "ww-review-row" },
            h("span", { class: "small muted" }, ww.prompts[row.prompt] || ""),
            h("span", { class: "grow" }, row.text, row.hidden ? ` (${t("whoswho.hidden")})` : ""),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                dataset: { fk: `hide-${row.id}` },
                "aria-pressed": String(row.hidden),
                onclick: () => this.send("whoswho_hide", { answer: row.id, hidden: !row.hidden }),
              },
              row.hidden ? t("whoswho.show") : t("whoswho.hide"),
            ),
          ),
      );
      return;
    }
    setText(byId("ww-heading"), `${t("whoswho.who_wrote")} · ${t("whoswho.question_n", { n: q.index + 1, count: ww.count })}`);
    setText(byId("ww-text"), q.text);
    setText(byId("ww-prompt"), t("whoswho.prompt_was", { text: ww.prompts[q.prompt] || "" }));
    const key = `${ww.round_index}:${q.index}`;
    if (ww.stage === "open") this.countdown.set({ deadlineAt: q.deadline_at, paused: q.paused, remaining: q.remaining, total: q.time_limit, key });
    else this.countdown.set({ deadlineAt: null, key });
    const playing = st.teams.filter((team) => team.players_count > 0).length;
    setText(byId("ww-answered"), t("whoswho.teams_answered", { n: q.answered_teams.length, count: playing }));
    const reveal = q.reveal;
    show(byId("ww-reveal"), !!reveal);
    if (!reveal) return;
    setText(
      byId("ww-author"),
      `${t("whoswho.it_was", { name: reveal.author.name })} · ${t("whoswho.of_team", { team: reveal.author.team_name || teamName(st, reveal.author.team_id) })}`,
    );
    setText(byId("ww-line"), reveal.line ? `“${reveal.line}”` : "");
    const right = reveal.teams.filter((row) => row.correct).map((row) => `${teamName(st, row.team_id)} +${row.points}`);
    setText(byId("ww-results"), right.length ? t("whoswho.right_teams", { teams: right.join(", ") }) : t("whoswho.nobody_right"));
  }
}
