// The player between rounds and at the end of the game.

import { byId, setText } from "../dom.js";
import { t } from "../i18n.js";

/** @import { RoomState } from "../types.js" */
/** @import { Me } from "./me_bar.js" */

/** @param {RoomState} st */
export function renderBetween(st) {
  const next = st.pack && st.round ? st.pack.rounds[st.round.index + 1] : null;
  setText(byId("between-next"), next ? t("between.next", { title: next.title }) : "");
}

/**
 * @param {RoomState} st
 * @param {Me} me
 */
export function renderFinished(st, me) {
  const team = st.teams.find((x) => x.id === me.teamId);
  setText(byId("finished-rank"), team ? t("finished.your_rank", { n: team.rank }) : "");
  byId("finished-keepsake", HTMLAnchorElement).href = `/keepsake/${encodeURIComponent(st.code)}`;
}
