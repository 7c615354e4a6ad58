// The screen's celebrations: "Aurora solved it!" in the top bar, where it
// covers nothing. Celebrations that come in a burst merge into one ("Aurora
// and Bora solved it!", "3 teams solved it!") instead of queueing behind each
// other; the text is made from the moment, not stored, so it follows a
// language switch or a renamed team; and a new riddle, stage or phase clears
// it, so no celebration outlives what it celebrates.

import { byId, setText } from "../dom.js";
import { t } from "../i18n.js";
import { announce, momentKey, momentText, teamName } from "../common.js";

/** @import { Moment, RoomState } from "../types.js" */

/** Moments celebrated, and the burst each belongs to. */
const GROUP = /** @type {Record<string, string>} */ ({ team_solved: "solved", guess_accepted: "solved", story_won: "won" });
/** How long a celebration shows after its last news. */
const SHOW_MS = 4000;
/** The longest a burst that keeps growing stays up. */
const MAX_MS = 8000;
/** Screen readers hear a growing burst once it settles. */
const ANNOUNCE_AFTER_MS = 1200;

/**
 * What the game is doing, as far as celebrations go: they end when it changes.
 * @param {RoomState} st
 */
export function phaseKey(st) {
  const parts = [st.phase, st.round ? st.round.index : ""];
  if (st.riddle) parts.push(`riddle ${st.riddle.round_index}:${st.riddle.index}`);
  if (st.story) parts.push(`story ${st.story.round_index}:${st.story.stage}`);
  return parts.join("|");
}

export class MomentToasts {
  constructor() {
    this.el = byId("moment-toast");
    this.bar = this.el.closest("header");
    /** @type {Set<string> | null} the moments already seen; null until the first state */
    this.seen = null;
    /** @type {string | null} */
    this.phase = null;
    /** @type {{group: string, moments: Moment[], started: number} | null} what is shown */
    this.burst = null;
    /** @type {RoomState | null} */
    this.state = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.hideTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.announceTimer = undefined;
    /** The text screen readers last heard. */
    this.announced = "";
  }

  /**
   * Celebrate what is new since the last state; end the celebration when the game moved on.
   * @param {RoomState} st
   */
  update(st) {
    this.state = st;
    const moments = st.moments || [];
    const phase = phaseKey(st);
    if (this.phase !== null && phase !== this.phase) this.clear();
    this.phase = phase;
    if (this.seen === null) {
      // Do not replay what happened before this screen connected.
      this.seen = new Set(moments.map(momentKey));
      return;
    }
    for (const m of moments) {
      const key = momentKey(m);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const group = GROUP[m.kind];
      if (group) this.add(group, m);
    }
    this.paint(); // the language or a team's name may have changed
  }

  /**
   * @param {string} group
   * @param {Moment} m
   */
  add(group, m) {
    const now = Date.now();
    if (!this.burst || this.burst.group !== group) this.burst = { group, moments: [], started: now };
    const burst = this.burst;
    // One team, one mention (an accepted answer after a solve, a tie counted twice).
    if (!burst.moments.some((other) => other.team_id === m.team_id)) burst.moments.push(m);
    clearTimeout(this.hideTimer);
    const left = Math.max(0, Math.min(SHOW_MS, burst.started + MAX_MS - now));
    this.hideTimer = setTimeout(() => this.clear(), Math.max(left, 1500));
    clearTimeout(this.announceTimer);
    this.announceTimer = setTimeout(() => this.announce(), burst.moments.length > 1 ? ANNOUNCE_AFTER_MS : 0);
  }

  /** The celebration's text now, in the current language. */
  text() {
    const burst = this.burst;
    const st = this.state;
    if (!burst || !st || !burst.moments.length) return "";
    const teams = burst.moments.map((m) => teamName(st, m.team_id));
    if (teams.length === 1) return momentText(st, burst.moments[0]);
    const key = burst.group === "won" ? "moment.many_won" : "moment.many_solved";
    if (teams.length === 2) return t(`${key}_two`, { a: teams[0], b: teams[1] });
    return t(key, { n: teams.length });
  }

  paint() {
    const text = this.text();
    setText(this.el, text);
    this.el.hidden = !text;
    this.el.classList.remove("long");
    if (this.bar) this.bar.classList.toggle("toasting", !!text);
    // Too long for one line of the bar ("Aurora and Bora tie for the
    // favourite story!" on a 1280-pixel screen): two smaller lines, in the
    // room the join address leaves while it shows.
    if (text && this.el.scrollWidth > this.el.clientWidth) this.el.classList.add("long");
  }

  announce() {
    const text = this.text();
    if (text && text !== this.announced) {
      this.announced = text;
      announce(text);
    }
  }

  /** Hide the celebration and forget it. */
  clear() {
    clearTimeout(this.hideTimer);
    clearTimeout(this.announceTimer);
    this.burst = null;
    this.announced = "";
    this.paint();
  }
}
