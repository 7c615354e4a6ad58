// The join form: the room, a name, and a team to pick (or "any").

import { h, byId, fill, show, setText } from "../dom.js";
import { t } from "../i18n.js";

/** @import { RoomInfo } from "../types.js" */

/**
 * @param {RoomInfo} info
 * @param {string} code
 */
export function renderJoin(info, code) {
  setText(byId("join-heading"), t("join.title", { code }));
  setText(
    byId("join-room-info"),
    [info.name, info.pack ? info.pack.title : "", t(info.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: info.players_count })]
      .filter(Boolean)
      .join(" · "),
  );
  const list = byId("team-choices");
  const chosen = pickedTeam() ?? "";
  /**
   * @param {string} value
   * @param {string} title
   * @param {string} meta
   * @param {number | null} slot
   */
  const choice = (value, title, meta, slot) =>
    h(
      "li",
      {},
      h(
        "label",
        { class: ["choice", slot !== null && `team-${slot}`] },
        h("input", { type: "radio", name: "team", value, checked: value === chosen }),
        h(
          "span",
          {},
          h("span", { class: "choice-title" }, slot !== null ? h("span", { class: "team-dot", "aria-hidden": "true" }) : null, slot !== null ? " " : "", title),
          meta ? h("span", { class: "choice-meta" }, meta) : null,
        ),
      ),
    );
  fill(
    list,
    choice("", t("join.team_auto"), "", null),
    info.teams.map((team, i) =>
      choice(team.id, team.name, t(team.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: team.players_count }), i % 8),
    ),
  );
}

/** The value of the checked team choice ("" for "any team"), undefined when none is checked. */
export function pickedTeam() {
  const picked = byId("team-choices").querySelector("input:checked");
  return picked instanceof HTMLInputElement ? picked.value : undefined;
}

/** @param {string} text */
export function setJoinError(text) {
  const el = byId("join-error");
  el.textContent = text || "";
  show(el, !!text);
}

/** @param {boolean} joining */
export function setJoining(joining) {
  const button = byId("join-button", HTMLButtonElement);
  button.disabled = joining;
  setText(button, t(joining ? "join.joining" : "join.button"));
}
