// Server-synchronised time and countdowns.
//
// The server sends its clock (welcome, every state, pong); we keep the offset
// to the local clock so a deadline_at in server seconds can be counted down
// locally, smoothly, and stays right when the phone's clock is wrong.

export const clock = {
  offset: 0, // server seconds - local seconds
  synced: false,
  /** @param {number} serverTime */
  sync(serverTime) {
    this.offset = serverTime - Date.now() / 1000;
    this.synced = true;
  },
  now() {
    return Date.now() / 1000 + this.offset;
  },
};

/**
 * "1:05", "0:09"; hours as "1:02:03".
 * @param {number} seconds
 */
export function formatSeconds(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

const MILESTONES = [60, 30, 10];

/**
 * @typedef {object} CountdownTarget
 * @property {number | null} deadlineAt server time, seconds
 * @property {boolean} paused
 * @property {number | null} remaining seconds left while paused
 * @property {number | null} total the full time, for the bar
 */

/**
 * A countdown shown in `el` (text "0:42"), optionally a progress bar `bar`
 * (its width follows the share of time left), and milestones announced
 * through `announce(seconds)` (60/30/10 seconds left, 0 = time's up) once each.
 *
 *   const cd = new Countdown(el, {bar, announce});
 *   cd.set({deadlineAt, paused, remaining, total});   // from each state
 *   cd.stop();
 */
export class Countdown {
  /**
   * @param {HTMLElement} el
   * @param {{bar?: HTMLElement | null, announce?: ((seconds: number) => void) | null, urgentBelow?: number}} [options]
   */
  constructor(el, { bar = null, announce = null, urgentBelow = 10 } = {}) {
    this.el = el;
    this.bar = bar;
    this.announce = announce;
    this.urgentBelow = urgentBelow;
    /** @type {CountdownTarget | null} */
    this.target = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    /** @type {string | null} */
    this.key = null;
    /** @type {Set<number>} */
    this.announced = new Set();
  }

  /**
   * key identifies the thing counted (a riddle, a turn): milestones reset when it changes.
   * @param {{deadlineAt?: number | null, paused?: boolean, remaining?: number | null, total?: number | null, key?: string | null}} target
   */
  set({ deadlineAt = null, paused = false, remaining = null, total = null, key = null }) {
    if (key !== this.key) {
      this.key = key;
      this.announced = new Set();
      // Milestones already behind us when we start (a late joiner) are not announced.
      const left = paused ? remaining : deadlineAt === null ? null : deadlineAt - clock.now();
      if (left !== null) for (const m of MILESTONES) if (left <= m) this.announced.add(m);
      if (left !== null && left <= 0) this.announced.add(0);
    }
    this.target = { deadlineAt, paused, remaining, total };
    this.render();
    if (!this.timer) this.timer = setInterval(() => this.render(), 250);
  }

  /** @returns {number | null} seconds left, or null when there is no deadline */
  left() {
    const t = this.target;
    if (!t) return null;
    if (t.paused) return t.remaining ?? 0;
    if (t.deadlineAt === null || t.deadlineAt === undefined) return null;
    return Math.max(0, t.deadlineAt - clock.now());
  }

  render() {
    const left = this.left();
    const t = this.target || { deadlineAt: null, paused: false, remaining: null, total: null };
    if (left === null) {
      this.el.textContent = "–:––";
      this.el.classList.remove("urgent");
      return;
    }
    const text = formatSeconds(left);
    if (this.el.textContent !== text) this.el.textContent = text;
    this.el.classList.toggle("urgent", !t.paused && left <= this.urgentBelow);
    this.el.classList.toggle("paused", !!t.paused);
    if (this.bar && t.total) {
      this.bar.style.width = `${Math.max(0, Math.min(100, (left / t.total) * 100))}%`;
    }
    if (this.announce && !t.paused) {
      const reached = [...MILESTONES, 0].filter((m) => left <= m && !this.announced.has(m));
      if (reached.length) {
        for (const m of reached) this.announced.add(m);
        this.announce(Math.min(...reached));
      }
    }
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.target = null;
    this.key = null;
  }
}
