// The screen's lobby: how to join (address, QR code, room code) and who is in.

import { h, byId, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { presence, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { RoomInfo, RoomState } from "../types.js" */

/** @param {string | null | undefined} url the address without its scheme, to be read aloud */
export const shortUrl = (url) => String(url || "").replace(/^https?:\/\//, "");

/**
 * @param {RoomState} st
 * @param {RoomInfo | null} info
 */
export function renderLobby(st, info) {
  const teams = teamsInRoomOrder(st);
  /** @param {string} teamId */
  const slotOf = (teamId) => teamSlot(teams, teamId);
  setText(byId("lobby-code"), st.code);
  const url = info ? info.join_url : `${location.origin}/r/${st.code}`;
  setText(byId("lobby-url"), shortUrl(url));
  const qr = byId("lobby-qr", HTMLImageElement);
  if (!qr.getAttribute("src")) qr.src = `/api/rooms/${encodeURIComponent(st.code)}/qr.svg`;
  qr.alt = t("screen.qr_alt", { code: st.code });
  setText(byId("lobby-title"), st.players_count ? (st.pack ? st.pack.title : st.name) : t("screen.waiting_players"));
  setText(
    byId("lobby-count"),
    st.players_count
      ? `${t(st.players_count === 1 ? "common.players_count_one" : "common.players_count", { n: st.players_count })} · ${t("screen.starting_soon")}`
      : st.pack
        ? st.pack.title
        : "",
  );
  keyed(
    byId("lobby-teams"),
    teams,
    (team) => team.id,
    (team) => JSON.stringify([team.name, team.players, slotOf(team.id), lang]),
    (team) =>
      h(
        "div",
        { class: ["lobby-team", `team-${slotOf(team.id)}`] },
        h("h2", {}, team.name, " ", h("span", { class: "muted small" }, `(${team.players.length})`)),
        team.players.length
          ? h("ul", { class: "team-members" }, team.players.map((p) => h("li", {}, presence(p), p.name)))
          : h("p", { class: "muted small" }, t("common.no_players")),
      ),
  );
}
