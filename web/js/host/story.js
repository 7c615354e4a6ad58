// The console's story panel: every team's story as it is written, with its
// writer's time, lines to hide, and the votes.

import { h, byId, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { clock, formatSeconds } from "../countdown.js";
import { playerName, promptMeta, storyText, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { RoomState, Story, StoryLine, TeamStory } from "../types.js" */

/**
 * @callback HideLine
 * @param {TeamStory} story
 * @param {StoryLine} line
 * @returns {void}
 */

/** @type {Record<string, string>} */
const HEADINGS = { writing: "story.write_title", reveal: "story.reveal_title", voting: "story.vote_title", results: "story.results" };

/**
 * @param {RoomState} st
 * @param {Story | null} s the story round, while one is on
 * @param {HideLine} toggleLine hide a line, or show it again
 */
export function renderStoryPanel(st, s, toggleLine) {
  show(byId("story-panel"), !!s);
  if (!s) return;
  setText(byId("story-kicker"), s.title);
  setText(byId("story-heading"), t(HEADINGS[s.stage] || "story.write_title"));
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
                onclick: () => toggleLine(e, line),
              },
              line.hidden ? t("host.unhide") : t("host.hide"),
            ),
        }),
        votes === null ? null : h("p", { class: "row" }, h("strong", {}, t(votes === 1 ? "story.votes_one" : "story.votes", { n: votes })), s.points ? h("span", { class: "muted" }, t("story.points", { n: s.points[e.team_id] || 0 })) : null),
      );
    },
  );
}

/**
 * Seconds left to the team's current writer.
 * @param {TeamStory} e
 * @param {Story} s
 */
function writerLeft(e, s) {
  if (s.paused) return e.seconds_left || 0;
  if (!e.turn_deadline_at) return 0;
  return Math.max(0, e.turn_deadline_at - clock.now());
}
