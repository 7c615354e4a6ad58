// The player's lobby: waiting for the host, with their team's members.

import { h, byId, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { presence } from "../common.js";

/** @import { RoomState } from "../types.js" */
/** @import { Me } from "./me_bar.js" */

/**
 * @param {RoomState} st
 * @param {Me} me
 */
export function renderLobby(st, me) {
  const team = st.teams.find((x) => x.id === me.teamId);
  setText(byId("lobby-pack"), st.pack ? st.pack.title : "");
  setText(byId("lobby-team-name"), team ? team.name : "");
  keyed(
    byId("lobby-members"),
    team ? team.players : [],
    (p) => p.id,
    (p) => JSON.stringify([p, me.id, lang]),
    (p) => h("li", {}, presence(p), p.name, p.id === me.id ? h("span", { class: "tag" }, t("common.you")) : null),
  );
}
