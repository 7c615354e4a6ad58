// The WebSocket client: one connection to /ws that says who it is, keeps
// itself alive, reconnects with capped exponential backoff, matches requests
// to their ack/error by id, orders states by seq, and applies `patch` frames to
// the last state, so the pages always get a whole state. A patch that does not
// fit what it holds makes it ask for a whole state again (`resync`).

import { clock } from "./countdown.js";
import { applyPatch } from "./patches.js";
import { CLOSE, ERROR, PROTOCOL_VERSION } from "./protocol.js";

/** @import { AckResults, NoticeMessage, PatchMessage, RoomState, ServerMessage, WelcomeMessage, WireError, YouMessage } from "./types.js" */

/** Codes of the failures this client finds by itself (no server frame says them). */
export const CLIENT_ERROR = Object.freeze({
  OFFLINE: "offline",
  TIMEOUT: "timeout",
  DISCONNECTED: "disconnected",
  CLOSED: "closed",
});

// Opening errors after which retrying the same hello cannot succeed.
/** @type {ReadonlySet<string>} */
const FATAL_HELLO = new Set([
  ERROR.ROOM_NOT_FOUND,
  ERROR.BAD_HOST_TOKEN,
  ERROR.UNKNOWN_TOKEN,
  ERROR.KICKED,
  ERROR.ROOM_CLOSED,
  ERROR.ROOM_LOCKED,
  ERROR.ROOM_FULL,
  ERROR.NAME_TAKEN,
  ERROR.EMPTY_NAME,
  ERROR.NAME_TOO_LONG,
  ERROR.INVALID_NAME,
  ERROR.TEAM_NOT_FOUND,
  ERROR.INVALID_FIELD,
]);

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15_000;
const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 50_000; // no frame at all for this long: the link is dead
const REQUEST_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 4_000;

export function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * @typedef {"idle" | "connecting" | "connected" | "reconnecting" | "offline" | "closed"} SocketStatus
 */

/**
 * What comes with a status: the attempt and when the next one is due while
 * reconnecting, the reason when closed.
 * @typedef {{attempt?: number, retryAt?: number, code?: string, message?: string}} StatusDetail
 */

/**
 * @typedef {object} SocketHandlers
 * @property {() => {type: string, [field: string]: unknown}} hello the opening message, asked on every (re)connect
 * @property {(msg: WelcomeMessage) => void} [onWelcome]
 * @property {(state: RoomState, seq: number) => void} [onState] a whole state, after a `state` or a
 *   `patch`; it is the base of the next patch, so pages must not change it (a patch never does: it copies)
 * @property {(msg: YouMessage) => void} [onYou]
 * @property {(msg: NoticeMessage) => void} [onNotice]
 * @property {(msg: WireError) => void} [onError] an error frame that answers no request
 * @property {(status: SocketStatus, detail: StatusDetail) => void} [onStatus]
 * @property {(err: WireError) => void} [onFatal] the session cannot continue (kicked, room closed, bad token...)
 */

/**
 * The result of an acknowledged command: see AckResults.
 * @template {string} K
 * @typedef {K extends keyof AckResults ? AckResults[K] : Record<string, never>} AckResult
 */

/**
 * @typedef {object} Pending
 * @property {(value: any) => void} resolve
 * @property {(err: WireError) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

/**
 *   new RoomSocket({
 *     hello: () => ({type: "join", room, name}),
 *     onWelcome(msg), onState(state, seq), onYou(msg), onNotice(msg),
 *     onStatus(status, detail), onFatal({code, message}),
 *   })
 */
export class RoomSocket {
  /** @param {SocketHandlers} handlers */
  constructor(handlers) {
    this.h = handlers;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {SocketStatus} */
    this.status = "idle";
    this.attempt = 0;
    this.lastSeq = -1; // the newest seq shown
    /** @type {RoomState | null} */
    this.state = null; // the state patches apply to, at seq stateSeq
    this.stateSeq = -1;
    this.resyncing = false; // resync sent: patches are ignored until the whole state comes
    this.nextId = 1;
    /** @type {Map<string | number, Pending>} */
    this.pending = new Map();
    this.stopped = true;
    this.welcomed = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pingTimer = undefined;
    this.lastFrameAt = 0;
    /** @type {string | null} */
    this.helloId = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.probeTimer = undefined;
    // The browser's own network signal: say so at once (an open socket may be
    // silently dead), and check the socket as soon as the network is back.
    this._online = () => this._checkOrRetry();
    this._offline = () => {
      if (!this.stopped) this._setStatus("offline");
    };
    this._visible = () => {
      // Phones suspend background tabs; a socket may not have survived.
      if (document.visibilityState === "visible") this._checkOrRetry();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    window.addEventListener("online", this._online);
    window.addEventListener("offline", this._offline);
    document.addEventListener("visibilitychange", this._visible);
    this._connect();
  }

  /** Stop for good: no more reconnects. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.probeTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener("online", this._online);
    window.removeEventListener("offline", this._offline);
    document.removeEventListener("visibilitychange", this._visible);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
    this._rejectAll(CLIENT_ERROR.CLOSED);
  }

  /**
   * Send a command; resolves with the ack's result, rejects with a WireError.
   * @template {string} K
   * @param {K} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<AckResult<K>>}
   */
  request(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.welcomed || navigator.onLine === false) {
      return Promise.reject({ code: CLIENT_ERROR.OFFLINE, message: "not connected" });
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject({ code: CLIENT_ERROR.TIMEOUT, message: "no answer from the server" });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this._send({ type, id, v: PROTOCOL_VERSION, ...fields });
    });
  }

  /** @param {Record<string, unknown>} msg */
  _send(msg) {
    try {
      this.ws?.send(JSON.stringify(msg));
    } catch {
      /* the close handler takes care of it */
    }
  }

  /**
   * @param {SocketStatus} status
   * @param {StatusDetail} [detail]
   */
  _setStatus(status, detail = {}) {
    this.status = status;
    if (this.h.onStatus) this.h.onStatus(status, detail);
  }

  _connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this._setStatus("offline");
      this._scheduleRetry();
      return;
    }
    this._setStatus(this.attempt === 0 && this.lastSeq < 0 ? "connecting" : "reconnecting", {
      attempt: this.attempt,
    });
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch {
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.resyncing = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      this.helloId = `hello-${this.nextId++}`;
      this._send({ ...this.h.hello(), id: this.helloId, v: PROTOCOL_VERSION });
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      if (this.welcomed && this.status !== "connected" && navigator.onLine !== false) this._setStatus("connected");
      /** @type {ServerMessage} */
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      this._receive(msg);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.welcomed = false;
      clearInterval(this.pingTimer);
      this._rejectAll(CLIENT_ERROR.DISCONNECTED);
      this._closed(event.code);
    };
    ws.onerror = () => {
      /* followed by close */
    };
  }

  /** @param {ServerMessage} msg */
  _receive(msg) {
    switch (msg.type) {
      case "welcome":
        this.welcomed = true;
        this.attempt = 0;
        if (typeof msg.server_time === "number") clock.sync(msg.server_time);
        this._setStatus("connected");
        this._startPing();
        if (this.h.onWelcome) this.h.onWelcome(msg);
        break;
      case "state":
        this.state = msg.state;
        this.stateSeq = msg.seq;
        this.resyncing = false;
        this._show(msg.state, msg.seq);
        break;
      case "patch":
        this._patch(msg);
        break;
      case "you":
        if (this.h.onYou) this.h.onYou(msg);
        break;
      case "pong":
        if (typeof msg.server_time === "number") clock.sync(msg.server_time);
        this._settle(msg.id, true, msg);
        break;
      case "ack":
        this._settle(msg.id, true, msg.result === undefined || msg.result === null ? {} : msg.result);
        break;
      case "error":
        if (msg.id !== undefined && msg.id === this.helloId && !this.welcomed) {
          this._helloFailed(msg);
        } else if (!this._settle(msg.id, false, { code: msg.code, message: msg.message })) {
          if (this.h.onError) this.h.onError(msg);
        }
        break;
      case "removed":
        this._fatal({ code: ERROR.KICKED, message: msg.reason || "removed" });
        break;
      case "notice":
        if (this.h.onNotice) this.h.onNotice(msg);
        break;
      default:
        break;
    }
  }

  /**
   * @param {RoomState} state
   * @param {number} seq
   */
  _show(state, seq) {
    if (typeof seq === "number" && seq < this.lastSeq) return; // older than what we show
    this.lastSeq = seq;
    if (state && typeof state.server_time === "number") clock.sync(state.server_time);
    if (this.h.onState) this.h.onState(state, seq);
  }

  /** @param {PatchMessage} msg */
  _patch(msg) {
    if (this.resyncing) return;
    if (this.state === null || msg.base !== this.stateSeq) {
      this._resync();
      return;
    }
    let state;
    try {
      state = applyPatch(this.state, msg.ops);
    } catch {
      // A PatchError, or a frame that is not a patch at all: either way, start again from a whole state.
      this._resync();
      return;
    }
    this.state = state;
    this.stateSeq = msg.seq;
    this._show(state, msg.seq);
  }

  /** Ask for a whole state: the patches no longer fit what this client holds. */
  _resync() {
    this.resyncing = true;
    this._send({ type: "resync", v: PROTOCOL_VERSION, id: `resync-${this.nextId++}` });
  }

  /**
   * Resolve or reject the request this frame answers; false when it answers none.
   * @param {string | number | null | undefined} id
   * @param {boolean} ok
   * @param {unknown} value
   */
  _settle(id, ok, value) {
    if (id === undefined || id === null) return false;
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    if (ok) entry.resolve(value);
    else entry.reject(/** @type {WireError} */ (value));
    return true;
  }

  /** @param {string} code */
  _rejectAll(code) {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject({ code, message: code });
      this.pending.delete(id);
    }
  }

  /** @param {WireError} err */
  _helloFailed(err) {
    if (FATAL_HELLO.has(err.code)) {
      this._fatal(err);
      return;
    }
    // Store hiccup, rate limit...: try again later.
    if (this.ws) this.ws.close(1000, "retry");
  }

  /** @param {WireError} err */
  _fatal(err) {
    if (this.stopped) return;
    this.stop();
    this._setStatus("closed", err);
    if (this.h.onFatal) this.h.onFatal(err);
  }

  /** @param {number} code */
  _closed(code) {
    if (this.stopped) return;
    if (code === CLOSE.ROOM_CLOSED) return this._fatal({ code: ERROR.ROOM_CLOSED, message: "room closed" });
    if (code === CLOSE.KICKED) return this._fatal({ code: ERROR.KICKED, message: "removed" });
    if (code === CLOSE.ROOM_GONE) return this._fatal({ code: ERROR.ROOM_NOT_FOUND, message: "room gone" });
    this._scheduleRetry();
  }

  _scheduleRetry() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    // The first retry is quick (a refresh, a server restart); then 0.5 s, 1 s, 2 s... up to 15 s,
    // with jitter so a whole room does not come back in the same millisecond.
    const base = this.attempt === 0 ? 250 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    if (navigator.onLine === false) this._setStatus("offline", { retryAt });
    else this._setStatus("reconnecting", { attempt: this.attempt, retryAt });
    this.retryTimer = setTimeout(() => this._connect(), delay);
  }

  /** Reconnect now instead of at the next retry (the user asked for it, or the network is back). */
  retryNow() {
    if (this.stopped || this.status === "connected" || this.ws) return;
    this._connect();
  }

  /** Ping an open socket and drop it if nothing comes back; reconnect at once if there is none. */
  _checkOrRetry() {
    if (this.stopped) return;
    if (!this.ws) {
      this.retryNow();
      return;
    }
    if (!this.welcomed || this.ws.readyState !== WebSocket.OPEN) return;
    const ws = this.ws;
    const before = this.lastFrameAt;
    this._send({ type: "ping", v: PROTOCOL_VERSION, id: `ping-${this.nextId++}` });
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => {
      if (this.ws === ws && this.lastFrameAt <= before) this._drop();
    }, PROBE_TIMEOUT_MS);
  }

  /** Abandon the current socket without waiting for a closing handshake, and reconnect. */
  _drop() {
    const dead = this.ws;
    this.ws = null;
    this.welcomed = false;
    clearInterval(this.pingTimer);
    this._rejectAll(CLIENT_ERROR.DISCONNECTED);
    try {
      if (dead) dead.close(4100, "no answer");
    } catch {
      /* ignore */
    }
    this._scheduleRetry();
  }

  _startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Half-open connection: nothing has arrived, not even our pongs. Do not
        // wait for a closing handshake that will never come.
        this._drop();
        return;
      }
      this._send({ type: "ping", v: PROTOCOL_VERSION, id: `ping-${this.nextId++}` });
    }, PING_EVERY_MS);
  }
}
