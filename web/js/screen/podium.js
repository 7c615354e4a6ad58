// The screen between rounds (the scoreboard, what comes next) and at the end
// (the podium).

import { h, byId, fill, setText } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { renderScoreboard, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { RoomState } from "../types.js" */

/** @param {RoomState} st */
export function renderBetween(st) {
  const next = st.pack && st.round ? st.pack.rounds[st.round.index + 1] : null;
  setText(byId("between-next"), next ? t("between.next", { title: next.title }) : "");
  renderScoreboard(byId("between-scoreboard"), st, { big: true });
}

/** @param {RoomState} st */
export function renderPodium(st) {
  const teams = teamsInRoomOrder(st);
  const top = st.teams.slice(0, 3);
  // Visual order: 2nd, 1st, 3rd.
  const order = [top[1], top[0], top[2]].filter(Boolean);
  const sig = JSON.stringify([top, lang]);
  const podium = byId("podium");
  if (podium.dataset.sig !== sig) {
    podium.dataset.sig = sig;
    fill(
      podium,
      order.map((team) =>
        h(
          "div",
          { class: ["podium-step", `p${team.rank}`, `team-${teamSlot(teams, team.id)}`] },
          team.rank === 1 ? h("span", { class: "podium-medal" }, icon("trophy")) : null,
          h("div", { class: "podium-name" }, team.name),
          h("div", { class: "podium-score" }, t("common.points_long", { n: team.score })),
          h("div", { class: "podium-players" }, team.players.map((p) => p.name).join(", ")),
          // The rank said in the page's language (an aria-label on a plain div is not read).
          h(
            "div",
            { class: "podium-block" },
            h("span", { "aria-hidden": "true" }, String(team.rank)),
            h("span", { class: "visually-hidden" }, t("common.rank", { n: team.rank })),
          ),
        ),
      ),
    );
  }
  const rest = st.teams.slice(3);
  setText(byId("podium-rest"), rest.map((team) => `${t("common.rank", { n: team.rank })} ${team.name} · ${team.score}`).join("   "));
}
