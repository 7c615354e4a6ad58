// The screen's story round: every team's progress while they write, one
// story at a time as it is revealed (every line of it: screen/reveal.js), then
// all of them for the vote and results, each card cut between two lines of
// text when its story is longer than the card (screen/fit.js).

import { h, byId, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { Countdown, clock, formatSeconds } from "../countdown.js";
import { announce, playerName, storyText, teamSlot, teamsInRoomOrder } from "../common.js";
import { StoryReveal } from "./reveal.js";
import { clipToWholeLines } from "./fit.js";

/** @import { RoomState, Story, TeamStory } from "../types.js" */

export class StoryStage {
  constructor() {
    this.countdown = new Countdown(byId("story-countdown"), {
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s })),
    });
    this.reveal = new StoryReveal();
    new ResizeObserver(() => this.fitCards()).observe(byId("story-grid"));
  }

  stop() {
    this.countdown.stop();
    this.reveal.reset();
  }

  /**
   * Whether the stage wants the whole width (the scoreboard does not change
   * while stories are read and voted on).
   * @param {Story} s
   */
  static wide(s) {
    return s.stage === "reveal" || s.stage === "voting";
  }

  /**
   * @param {RoomState} st
   * @param {Story} s
   */
  render(st, s) {
    const teams = teamsInRoomOrder(st);
    /** @param {string} teamId */
    const slotOf = (teamId) => teamSlot(teams, teamId);
    const round = st.round;
    setText(byId("story-kicker"), [s.title, round ? t("common.round", { n: round.index + 1, count: round.count }) : ""].filter(Boolean).join(" · "));
    const entries = s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean);
    const focus = byId("story-focus");
    const grid = byId("story-grid");
    const clockRow = byId("story-clock");

    if (s.stage !== "reveal") this.reveal.stop();
    grid.classList.toggle("fill", s.stage === "voting" || s.stage === "results");
    if (s.stage === "writing") {
      setText(byId("story-heading"), t("screen.writing"));
      show(clockRow, false);
      this.countdown.stop();
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
            h("h2", { class: "screen-story-title" }, h("span", { class: "team-dot", "aria-hidden": "true" }), h("span", { class: "title-text" }, e.name)),
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
      this.countdown.stop();
      show(grid, false);
      show(focus, !!current);
      if (current) this.reveal.show(st, s.round_index, current);
      else this.reveal.stop();
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
      if (s.vote_deadline_at) this.countdown.set({ deadlineAt: s.vote_deadline_at, key: `vote:${s.round_index}` });
      else this.countdown.stop();
      setText(byId("story-voters"), t("story.voters", { n: (s.voters || []).length, total: st.players_count }));
    } else {
      this.countdown.stop();
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
          h("h2", { class: "screen-story-title" }, h("span", { class: "team-dot", "aria-hidden": "true" }), h("span", { class: "title-text" }, e.name)),
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
          e.lines !== undefined ? storyText(e, st, { writers: false, className: "story card-story" }) : null,
          e.lines !== undefined ? h("p", { class: "card-more", hidden: true }) : null,
        );
      },
    );
    this.fitCards();
  }

  /** Cut each voting or results card's story after its last whole line of text. */
  fitCards() {
    const grid = byId("story-grid");
    if (grid.hidden || !grid.classList.contains("fill")) return;
    for (const card of grid.children) {
      const box = card.querySelector(".card-story");
      const more = card.querySelector(".card-more");
      if (!(box instanceof HTMLElement) || !(more instanceof HTMLElement)) continue;
      const items = /** @type {HTMLElement[]} */ (Array.from(box.querySelectorAll(".story-opening, .story-lines > li")));
      more.hidden = true;
      let hidden = clipToWholeLines(box, items);
      if (hidden > 0) {
        // Room for the note, then cut again.
        setText(more, t("screen.more_lines", { n: hidden }));
        more.hidden = false;
        hidden = clipToWholeLines(box, items);
        setText(more, t("screen.more_lines", { n: hidden }));
        more.hidden = hidden === 0;
      }
    }
  }
}

/**
 * Seconds left to the team's current writer.
 * @param {TeamStory} e
 * @param {Story} s
 */
function turnLeft(e, s) {
  if (s.paused) return e.seconds_left || 0;
  if (!e.turn_deadline_at) return 0;
  return Math.max(0, e.turn_deadline_at - clock.now());
}
