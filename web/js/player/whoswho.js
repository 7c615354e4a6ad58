// A "Who's who" round on the player's phone: answer the prompts privately (or
// skip), then, for each answer played, choose who wrote it for your team (a
// button per colleague, or their name typed), and see the reveal. Your own
// answers and "this one is yours" come from your own `you` message only.
// Everything typed by people (answers, names, lines) is set as text.

import { h, byId, show, setText, keyed } from "../dom.js";
import { t } from "../i18n.js";
import { Countdown } from "../countdown.js";
import { announce, errorText, teamName } from "../common.js";

/** @import { RoomState, WhosWho, WhosWhoQuestion, WireError, YourWhosWho } from "../types.js" */
/** @import { RoomSocket } from "../net.js" */
/** @import { Me } from "./me_bar.js" */

/** @type {YourWhosWho} */
const NOTHING_YET = { answered: false, answers: [], line: "", own_question: false };

export class WhosWhoView {
  /** @param {() => RoomSocket | null} socket the page's connection, when it has one */
  constructor(socket) {
    this.socket = socket;
    this.countdown = new Countdown(byId("ww-countdown"), {
      bar: byId("ww-timebar"),
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }), { assertive: s <= 10 }),
    });
    /** @type {string | null} the round whose fields are on show, filled from `you` once */
    this.filled = null;
    /** @type {string | null} the question last announced */
    this.announced = null;
    /** @type {WhosWho | null} */
    this.ww = null;
    byId("ww-answer-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.sendAnswers(false);
    });
    byId("ww-skip").addEventListener("click", () => this.sendAnswers(true));
    byId("ww-name-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const name = byId("ww-name", HTMLInputElement).value.trim();
      if (name) this.choose({ name });
    });
  }

  stop() {
    this.countdown.stop();
  }

  /**
   * @param {RoomState} st
   * @param {WhosWho} ww
   * @param {Me} me
   */
  render(st, ww, me) {
    this.ww = ww;
    const mine = (me.you && me.you.whoswho) || NOTHING_YET;
    const round = st.round;
    setText(byId("ww-round"), round ? `${round.title} · ${t("common.round", { n: round.index + 1, count: round.count })}` : "");
    const q = ww.question;
    show(byId("ww-answer-form"), ww.stage === "answering");
    show(byId("ww-open"), ww.stage === "open");
    show(byId("ww-revealed"), ww.stage === "revealed");
    show(byId("ww-text"), !!q);
    show(byId("ww-prompt"), !!q);
    const open = ww.stage === "open" && !!q;
    show(byId("ww-countdown-box"), open);
    show(byId("ww-timebar-box"), open);
    show(byId("ww-paused"), open && !!q && q.paused);
    if (!q) {
      this.countdown.stop();
      setText(byId("ww-heading"), t("whoswho.title"));
      this.renderAnswering(ww, mine);
      return;
    }
    setText(byId("ww-heading"), `${t("whoswho.who_wrote")} · ${t("whoswho.question_n", { n: q.index + 1, count: ww.count })}`);
    setText(byId("ww-text"), q.text);
    setText(byId("ww-prompt"), t("whoswho.prompt_was", { text: ww.prompts[q.prompt] || "" }));
    const key = `${ww.round_index}:${q.index}`;
    this.countdown.set(open ? { deadlineAt: q.deadline_at, paused: q.paused, remaining: q.remaining, total: q.time_limit, key } : { deadlineAt: null, key });
    if (open) this.renderOpen(st, q, mine, me);
    else this.renderRevealed(st, q, me);
    if (this.announced !== `${key}:${ww.stage}`) {
      this.announced = `${key}:${ww.stage}`;
      show(byId("ww-choose-error"), false);
      if (open) announce(`${t("whoswho.who_wrote")} ${q.text}`);
      else if (q.reveal) announce(t("whoswho.it_was", { name: q.reveal.author.name }));
    }
  }

  /**
   * One text field per prompt, filled once from what the server has of yours.
   * @param {WhosWho} ww
   * @param {YourWhosWho} mine
   */
  renderAnswering(ww, mine) {
    setText(byId("ww-intro"), t("whoswho.answer_intro", { n: ww.max_answers }));
    const key = `${ww.round_index}:${ww.prompts.join("\n")}`;
    const fields = byId("ww-fields");
    if (this.filled !== key) {
      this.filled = key;
      const given = new Map(mine.answers.map((a) => [a.prompt, a]));
      fields.replaceChildren(
        ...ww.prompts.map((prompt, index) => {
          const id = `ww-answer-${index}`;
          const answer = given.get(index);
          const input = h("textarea", { id, rows: "2", maxlength: "200", "aria-describedby": `${id}-hidden`, dataset: { prompt: index } });
          input.value = answer ? answer.text : "";
          return h(
            "div",
            { class: "field" },
            h("label", { for: id }, prompt),
            input,
            h("p", { class: "muted small ww-hidden-note", id: `${id}-hidden`, hidden: true }, t("whoswho.hidden_by_host")),
          );
        }),
      );
      byId("ww-line", HTMLInputElement).value = mine.line || "";
    }
    for (let index = 0; index < ww.prompts.length; index++) {
      const answer = mine.answers.find((a) => a.prompt === index);
      const note = document.getElementById(`ww-answer-${index}-hidden`);
      if (note) show(note, !!answer && answer.hidden);
    }
    const status = byId("ww-answer-status");
    show(status, mine.answered);
    if (mine.answered) setText(status, mine.answers.length ? t("whoswho.sent") : t("whoswho.skipped"));
  }

  /**
   * @param {RoomState} st
   * @param {WhosWhoQuestion} q
   * @param {YourWhosWho} mine
   * @param {Me} me
   */
  renderOpen(st, q, mine, me) {
    const yours = mine.own_question;
    const chosen = q.team || null;
    show(byId("ww-yours"), yours);
    show(byId("ww-chosen"), !!chosen && !yours);
    if (chosen) setText(byId("ww-chosen"), t("whoswho.team_chose", { name: chosen.chosen_name, by: chosen.by_name }));
    show(byId("ww-chooser"), !yours && !chosen);
    const playing = st.teams.filter((team) => team.players_count > 0).length;
    setText(byId("ww-teams-answered"), t("whoswho.teams_answered", { n: q.answered_teams.length, count: playing }));
    // Paused by the host: the question takes no answer until it resumes.
    for (const control of [byId("ww-name", HTMLInputElement), byId("ww-name-button", HTMLButtonElement)]) control.disabled = q.paused;
    for (const button of byId("ww-people").querySelectorAll("button")) button.disabled = q.paused;
    if (yours || chosen) return;
    const people = st.teams
      .flatMap((team) => team.players.map((p) => ({ id: p.id, name: p.name, team: team.name })))
      .filter((p) => p.id !== me.id)
      .sort((a, b) => a.name.localeCompare(b.name));
    keyed(
      byId("ww-people"),
      people,
      (p) => p.id,
      (p) => JSON.stringify([p.name, p.team]),
      (p) =>
        h(
          "button",
          { type: "button", class: "btn option-btn", dataset: { fk: `person-${p.id}` }, disabled: q.paused, onclick: () => this.choose({ player: p.id }) },
          p.name,
          " ",
          h("span", { class: "muted small" }, `(${p.team})`),
        ),
    );
  }

  /**
   * @param {RoomState} st
   * @param {WhosWhoQuestion} q
   * @param {Me} me
   */
  renderRevealed(st, q, me) {
    const reveal = q.reveal;
    if (!reveal) return;
    setText(byId("ww-author"), t("whoswho.it_was", { name: reveal.author.name }));
    setText(byId("ww-author-team"), t("whoswho.of_team", { team: reveal.author.team_name || teamName(st, reveal.author.team_id) }));
    show(byId("ww-line-shown"), !!reveal.line);
    setText(byId("ww-line-shown"), reveal.line ? `“${reveal.line}”` : "");
    const own = reveal.teams.find((row) => row.team_id === me.teamId);
    const result = byId("ww-result");
    result.className = `verdict-flash ${own && own.correct ? "correct" : "info"}`;
    if (!own) setText(result, t("whoswho.no_answer"));
    else if (own.correct) setText(result, t("whoswho.right", { n: own.points }));
    else setText(result, t("whoswho.wrong", { name: (q.team && q.team.chosen_name) || "?" }));
  }

  /** @param {boolean} skip */
  async sendAnswers(skip) {
    const ww = this.ww;
    const socket = this.socket();
    const error = byId("ww-answer-error");
    if (!ww || !socket) return;
    /** @type {{prompt: number, text: string}[]} */
    const answers = [];
    if (!skip) {
      for (const field of byId("ww-fields").querySelectorAll("textarea")) {
        const text = field.value.trim();
        if (text) answers.push({ prompt: Number(field.dataset.prompt), text });
      }
      const problem = answers.length === 0 ? t("whoswho.none_given") : answers.length > ww.max_answers ? t("whoswho.too_many", { n: ww.max_answers }) : "";
      setText(error, problem);
      show(error, !!problem);
      if (problem) return;
    }
    const line = byId("ww-line", HTMLInputElement).value.trim();
    try {
      await socket.request("whoswho_answer", { answers, line: skip || !line ? null : line });
      show(error, false);
    } catch (e) {
      setText(error, errorText(/** @type {WireError} */ (e)));
      show(error, true);
    }
  }

  /** @param {{player?: string, name?: string}} choice */
  async choose(choice) {
    const socket = this.socket();
    const error = byId("ww-choose-error");
    if (!socket) return;
    try {
      await socket.request("whoswho_choose", choice);
      show(error, false);
      byId("ww-name", HTMLInputElement).value = "";
    } catch (e) {
      setText(error, errorText(/** @type {WireError} */ (e)));
      show(error, true);
    }
  }
}
