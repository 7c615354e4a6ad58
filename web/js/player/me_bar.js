// The player's bar above every phase: who they are, their team and points.

import { h, byId, fill } from "../dom.js";
import { t, lang } from "../i18n.js";
import { teamName, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { RoomState, YouMessage } from "../types.js" */

/**
 * The player this page plays as, as the render functions need it.
 * @typedef {object} Me
 * @property {string | null} id
 * @property {string} name
 * @property {string | null} teamId
 * @property {YouMessage | null} you the latest private details
 */

/**
 * @param {RoomState} st
 * @param {Me} me
 */
export function renderMeBar(st, me) {
  const team = me.teamId;
  const slot = teamSlot(teamsInRoomOrder(st), team);
  const points = me.you && me.you.player ? me.you.player.points : null;
  const name = me.name;
  const row = st.teams.find((x) => x.id === team);
  const teamScore = row ? row.score : null;
  const sig = JSON.stringify([name, team, teamName(st, team), points, teamScore, slot, lang]);
  const bar = byId("me-bar");
  if (bar.dataset.sig === sig) return;
  bar.dataset.sig = sig;
  fill(
    bar,
    h("span", { id: "me-name" }, t("player.you_are", { name })),
    h("span", { class: ["team-chip", `team-${slot}`] }, h("span", { class: "team-dot", "aria-hidden": "true" }), h("span", { id: "me-team" }, t("player.team_of", { team: teamName(st, team) }))),
    teamScore === null ? null : h("span", { class: "pill", id: "me-team-score", title: t("common.scoreboard") }, t("player.team_score", { n: teamScore })),
    points === null ? null : h("span", { id: "me-points", class: "muted" }, t("player.my_points", { n: points })),
  );
}
