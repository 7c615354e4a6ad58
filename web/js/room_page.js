// What the three room pages (player, host console, screen) share: one view
// shown at a time, a message view for when the session cannot go on, and the
// connection to the room with its status pill, its trouble banner and the
// server's notices. Each page owns its game state and its rendering.

import { h, fill, setText, show } from "./dom.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { RoomSocket } from "./net.js";
import { NOTICE } from "./protocol.js";

/** @import { NoticeMessage } from "./types.js" */
/** @import { SocketHandlers, SocketStatus, StatusDetail } from "./net.js" */

/**
 * What the message view says; asked again when the language changes.
 * @typedef {{icon: string, title: string, text: string}} Message
 */

/** @type {Record<string, string>} */
const STATUS_ICONS = { connected: "●", connecting: "◌", reconnecting: "◌", offline: "✕", closed: "✕" };

/**
 * A room page. Its markup has #conn (the status pill), #notice-banner and,
 * where the game can be in trouble, #conn-banner.
 *
 * @template {string} V the names of the page's views
 */
export class RoomPage {
  /**
   * @param {object} options
   * @param {Record<V, HTMLElement>} options.views every view of the page, by name: one is shown at a time
   * @param {NoInfer<V> | null} options.liveView the view where the game is: the status pill and the
   *   trouble banner show only there (null: the pill always shows, and there is no banner)
   * @param {{view: NoInfer<V>, icon: HTMLElement, title: HTMLElement, text: HTMLElement}} options.message
   *   the view showMessage() shows, and where it writes
   */
  constructor({ views, liveView, message }) {
    this.views = views;
    this.liveView = liveView;
    this.messageSlots = message;
    /** @type {V | null} */
    this.view = null;
    /** @type {RoomSocket | null} */
    this.socket = null;
    /** @type {(() => Message) | null} */
    this.message = null;
    /** @type {SocketStatus} */
    this.status = "connecting";
    /** @type {StatusDetail} */
    this.detail = {};
    this.storePaused = false;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.statusTimer = undefined;

    this.connEl = /** @type {HTMLElement} */ (document.getElementById("conn"));
    this.connBanner = document.getElementById("conn-banner");
    this.noticeBanner = document.getElementById("notice-banner");
    this.connEl.addEventListener("click", () => {
      if (this.socket && (this.status === "reconnecting" || this.status === "offline")) this.socket.retryNow();
    });
    document.addEventListener("langchange", () => {
      this._renderStatus();
      this._renderBanner();
      this._renderNotice();
      if (this.message && this.view === this.messageSlots.view) this._renderMessage(this.message);
    });
    this._renderStatus();
  }

  // ---- views ----------------------------------------------------------------------------

  /** @param {V} name */
  showView(name) {
    this.view = name;
    for (const [view, el] of /** @type {[V, HTMLElement][]} */ (Object.entries(this.views))) show(el, view === name);
    if (this.liveView !== null) {
      show(this.connEl, name === this.liveView);
      if (name !== this.liveView) show(this.connBanner, false);
    }
  }

  /**
   * Show the message view instead of the game; `message` is asked again when the language changes.
   * @param {() => Message} message
   */
  showMessage(message) {
    this.message = message;
    this._renderMessage(message);
    this.showView(this.messageSlots.view);
  }

  /** Hide the status pill for good (a page that will never connect). */
  hideStatus() {
    show(this.connEl, false);
  }

  /** @param {() => Message} message */
  _renderMessage(message) {
    const { icon: name, title, text } = message();
    fill(this.messageSlots.icon, icon(name));
    setText(this.messageSlots.title, title);
    setText(this.messageSlots.text, text);
  }

  // ---- the connection -------------------------------------------------------------------

  /**
   * Connect to the room, replacing any connection before this one. The status
   * pill, the trouble banner and the store notices follow it; `onFatal` is
   * called once the connection is gone for good (this.socket is null by then).
   *
   * @param {SocketHandlers} handlers
   * @returns {RoomSocket}
   */
  connect(handlers) {
    this.disconnect();
    const socket = new RoomSocket({
      ...handlers,
      onStatus: (status, detail) => {
        this._setStatus(status, detail);
        if (handlers.onStatus) handlers.onStatus(status, detail);
      },
      onNotice: (msg) => {
        this._notice(msg);
        if (handlers.onNotice) handlers.onNotice(msg);
      },
      onFatal: (err) => {
        if (this.socket === socket) this.socket = null;
        if (handlers.onFatal) handlers.onFatal(err);
      },
    });
    this.socket = socket;
    socket.start();
    return socket;
  }

  /** Close the connection for good (no reconnection). */
  disconnect() {
    if (this.socket) this.socket.stop();
    this.socket = null;
  }

  /**
   * @param {SocketStatus} status
   * @param {StatusDetail} detail
   */
  _setStatus(status, detail) {
    this.status = status;
    this.detail = detail;
    clearInterval(this.statusTimer);
    // The pill counts down to the next attempt.
    if (status === "reconnecting" && detail.retryAt) this.statusTimer = setInterval(() => this._renderStatus(), 500);
    this._renderStatus();
    this._renderBanner();
  }

  _renderStatus() {
    const { status, detail } = this;
    this.connEl.dataset.status = status;
    let text = t(`conn.${status}`);
    if (status === "reconnecting" && detail.retryAt) {
      const s = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      if (s >= 1) text = t("conn.reconnecting_in", { s });
    }
    fill(
      this.connEl,
      h("span", { class: "conn-icon", "aria-hidden": "true" }, STATUS_ICONS[status] || "◌"),
      h("span", { class: "conn-text" }, text),
    );
    this.connEl.title = text;
  }

  // The page-wide banner for a connection in trouble, shown only in the live
  // view (the player's game, the console) so a join form stays uncluttered.
  _renderBanner() {
    const el = this.connBanner;
    if (!el) return;
    const status = this.status;
    const trouble = this.view === this.liveView && (status === "reconnecting" || status === "offline");
    el.hidden = !trouble;
    if (trouble) el.textContent = status === "offline" ? t("conn.offline") : t("conn.reconnecting");
  }

  // The server says when its store (Redis) is unreachable and when it is back:
  // the game is paused meanwhile, and people should know it is not their network.
  /** @param {NoticeMessage} msg */
  _notice(msg) {
    if (msg.code === NOTICE.STORE_UNAVAILABLE) this.storePaused = true;
    else if (msg.code === NOTICE.STORE_AVAILABLE) this.storePaused = false;
    else return;
    this._renderNotice();
  }

  _renderNotice() {
    const el = this.noticeBanner;
    if (!el) return;
    if (this.storePaused) el.textContent = t("notice.paused");
    el.hidden = !this.storePaused;
  }
}
