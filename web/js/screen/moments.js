// The screen's celebrations: "Team X solved it!" as a toast, one at a time.

import { byId } from "../dom.js";
import { announce, momentKey, momentText } from "../common.js";

/** @import { RoomState } from "../types.js" */

const CELEBRATE = new Set(["team_solved", "story_won", "guess_accepted"]);
const SHOW_MS = 3500;

export class MomentToasts {
  constructor() {
    this.el = byId("moment-toast");
    /** @type {Set<string> | null} the moments already seen; null until the first state */
    this.seen = null;
    /** @type {string[]} */
    this.queue = [];
    this.busy = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
  }

  /**
   * Queue what is new since the last state.
   * @param {RoomState} st
   */
  update(st) {
    const moments = st.moments || [];
    if (this.seen === null) {
      // Do not replay what happened before this screen connected.
      this.seen = new Set(moments.map(momentKey));
      return;
    }
    for (const m of moments) {
      const key = momentKey(m);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      if (CELEBRATE.has(m.kind)) this.queue.push(momentText(st, m));
    }
    this.next();
  }

  /** Drop what is queued, and hide the toast on show. */
  clear() {
    this.queue = [];
    this.el.hidden = true;
  }

  next() {
    if (this.busy || !this.queue.length) return;
    const text = /** @type {string} */ (this.queue.shift());
    this.busy = true;
    const el = this.el;
    el.textContent = text;
    el.hidden = false;
    announce(text);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      el.hidden = true;
      this.busy = false;
      this.next();
    }, SHOW_MS);
  }
}
