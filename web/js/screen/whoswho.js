// The shared screen during a "Who's who" round: while answers come in, the
// prompts and how many answered; then each question ("Who wrote this?"),
// its timer and how many teams answered; then the reveal: the person, their
// team and their line. The author is in no view before the reveal, so the
// screen cannot show it early. Answers, names and lines are set as text.

import { byId, show, setText, keyed, h } from "../dom.js";
import { t } from "../i18n.js";
import { Countdown } from "../countdown.js";
import { teamName } from "../common.js";

/** @import { RoomState, WhosWho } from "../types.js" */

export class WhosWhoStage {
  constructor() {
    this.countdown = new Countdown(byId("ww-countdown"), { bar: byId("ww-timebar"), urgentBelow: 10 });
  }

  /**
   * @param {RoomState} st
   * @param {WhosWho} ww
   */
  render(st, ww) {
    const q = ww.question;
    const counts = t("whoswho.counts", { answered: ww.answered, skipped: ww.skipped });
    show(byId("ww-prompts"), !q);
    show(byId("ww-text"), !!q);
    show(byId("ww-clock"), !!q && ww.stage === "open");
    show(byId("ww-reveal"), !!q && !!q.reveal);
    show(byId("ww-paused"), !!q && ww.stage === "open" && q.paused);
    if (!q) {
      this.countdown.stop();
      setText(byId("ww-kicker"), st.round ? st.round.title : t("whoswho.title"));
      setText(byId("ww-heading"), t("whoswho.answer_on_phone"));
      keyed(
        byId("ww-prompts"),
        ww.prompts.map((text, index) => ({ text, index })),
        (p) => p.index,
        (p) => p.text,
        (p) => h("li", {}, p.text),
      );
      setText(byId("ww-status"), counts);
      return;
    }
    setText(byId("ww-kicker"), t("whoswho.question_n", { n: q.index + 1, count: ww.count }));
    setText(byId("ww-heading"), t("whoswho.who_wrote"));
    setText(byId("ww-text"), `“${q.text}”`);
    const key = `${ww.round_index}:${q.index}`;
    if (ww.stage === "open") this.countdown.set({ deadlineAt: q.deadline_at, paused: q.paused, remaining: q.remaining, total: q.time_limit, key });
    else this.countdown.set({ deadlineAt: null, key });
    const playing = st.teams.filter((team) => team.players_count > 0).length;
    const reveal = q.reveal;
    if (!reveal) {
      setText(byId("ww-status"), t("whoswho.teams_answered", { n: q.answered_teams.length, count: playing }));
      return;
    }
    setText(byId("ww-author"), t("whoswho.it_was", { name: reveal.author.name }));
    setText(byId("ww-author-team"), t("whoswho.of_team", { team: reveal.author.team_name || teamName(st, reveal.author.team_id) }));
    setText(byId("ww-line"), reveal.line ? `“${reveal.line}”` : "");
    const right = reveal.teams.filter((row) => row.correct).map((row) => teamName(st, row.team_id));
    setText(byId("ww-status"), right.length ? t("whoswho.right_teams", { teams: right.join(", ") }) : t("whoswho.nobody_right"));
  }

  stop() {
    this.countdown.stop();
  }
}
