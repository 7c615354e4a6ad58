// The console's room card: the code, the QR code and the links to share,
// the circle the room was opened in (a link to the facilitator's page), the
// lock, and the downloads.

import { byId, downloadBlob, setText, show } from "../dom.js";
import { t } from "../i18n.js";
import { toast } from "../common.js";

/** @import { RoomInfo, RoomState, WireError } from "../types.js" */

/**
 * @param {RoomState} st
 * @param {RoomInfo | null} info
 * @param {string} token the host token (the console link carries it)
 */
export function renderRoom(st, info, token) {
  setText(byId("room-code"), st.code);
  const qr = byId("room-qr", HTMLImageElement);
  if (!qr.getAttribute("src")) qr.src = `/api/rooms/${encodeURIComponent(st.code)}/qr.svg`;
  qr.alt = t("host.qr_alt");
  const joinUrl = info ? info.join_url : `${location.origin}/r/${st.code}`;
  const joinInput = byId("join-link", HTMLInputElement);
  if (joinInput.value !== joinUrl) joinInput.value = joinUrl;
  const screenUrl = info ? info.screen_url : `${location.origin}/screen/${st.code}`;
  byId("screen-link", HTMLAnchorElement).href = screenUrl;
  // The keepsake page finds the host token this console saved for the room.
  byId("keepsake-link", HTMLAnchorElement).href = `/keepsake/${encodeURIComponent(st.code)}?as=host`;
  const base = info ? info.host_url : `${location.origin}/host/${st.code}`;
  const consoleUrl = `${base}#token=${encodeURIComponent(token)}`;
  const consoleInput = byId("console-link", HTMLInputElement);
  if (consoleInput.value !== consoleUrl) consoleInput.value = consoleUrl;
  // The room's circle, from its public info (id and name: never a token). The
  // facilitator's page opens it when this device keeps its token.
  const circle = (info && info.circle) || null;
  show(byId("room-circle"), !!circle);
  if (circle) {
    const link = byId("room-circle-link", HTMLAnchorElement);
    setText(link, circle.name);
    link.href = `/circles#${encodeURIComponent(circle.id)}`;
  }
  byId("lock-toggle", HTMLInputElement).checked = !!st.locked;
  byId("auto-toggle", HTMLInputElement).checked = !!st.auto_advance;
}

/**
 * Download the results or the stories (they need the host token, so not a plain link).
 * @param {string} code
 * @param {string} token
 * @param {string} what "results.csv", "results.json" or "stories.md"
 */
export async function download(code, token, what) {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(code)}/${what}`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      /** @type {{message?: string}} */
      const err = body.error || { message: response.statusText };
      toast(t("host.download_failed", { message: err.message || response.status }), { bad: true });
      return;
    }
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    downloadBlob(blob, match ? match[1] : `ritrovo-${code}-${what}`);
  } catch (err) {
    toast(t("host.download_failed", { message: String(/** @type {Error} */ (err).message || err) }), { bad: true });
  }
}
