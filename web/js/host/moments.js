// The console's feed of what happens in the room, newest first.

import { h, byId, keyed } from "../dom.js";
import { lang } from "../i18n.js";
import { clock } from "../countdown.js";
import { momentKey, momentText } from "../common.js";

/** @import { RoomState } from "../types.js" */

/** @param {RoomState} st */
export function renderMoments(st) {
  const moments = [...(st.moments || [])].reverse();
  keyed(
    byId("moments"),
    moments,
    momentKey,
    (m) => JSON.stringify([momentText(st, m), lang]),
    (m) => h("li", {}, h("span", { class: "muted small" }, new Date((m.at - clock.offset) * 1000).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })), " ", momentText(st, m)),
  );
}
