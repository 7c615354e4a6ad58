// The screen's story reveal: the story the host has just revealed, shown
// whole, one line at a time at a reading pace and a page at a time, so a story
// of any length is read to the end at a size legible from the back of a room
// (or in a shrunken video-call window).
//
// The pace is the screen's own: the server only says which story is revealed.
// Each line stays alone at the bottom of what is shown long enough to be read
// (about 18 characters a second, 3 to 12 seconds), then the next one appears;
// a line that no longer fits turns the page. Whoever runs the screen can take
// over with the buttons under the story or the keyboard: → / Space / Page Down
// shows the next line now, ← / Page Up goes back a page (and pauses), P pauses
// and resumes. The host's "next" on the console reveals the next story as before.

import { h, byId, fill, setText, show } from "../dom.js";
import { t, lang } from "../i18n.js";
import { playerName } from "../common.js";

/** @import { RoomState, TeamStory } from "../types.js" */

const BASE_MS = 1500;
const PER_CHAR_MS = 55;
const MIN_MS = 3000;
const MAX_MS = 12000;
/** The smallest the text may get to fit one very long line on a page (of its size from the CSS). */
const MIN_SCALE = 0.45;

/**
 * How long a line stays the newest one: time to read it, from across the room.
 * @param {string} text
 */
export function dwellMs(text) {
  return Math.min(MAX_MS, Math.max(MIN_MS, BASE_MS + PER_CHAR_MS * text.length));
}

/**
 * @typedef {{el: HTMLElement, text: string}} Item
 */

export class StoryReveal {
  constructor() {
    this.root = byId("story-focus");
    this.box = byId("reveal-page");
    this.list = byId("reveal-lines");
    this.progress = byId("reveal-progress");
    this.btnBack = byId("reveal-back", HTMLButtonElement);
    this.btnPause = byId("reveal-pause", HTMLButtonElement);
    this.btnNext = byId("reveal-next", HTMLButtonElement);
    /** @type {string | null} which story is shown (round and team) */
    this.key = null;
    /** @type {string | null} what it said when it was last built */
    this.sig = null;
    /** @type {Item[]} the opening and the lines */
    this.items = [];
    /** Index of the newest item shown. */
    this.cursor = 0;
    /** @type {number[]} index of the first item of each page */
    this.pages = [0];
    this.paused = false;
    this.active = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** The cursor the running timer will move on from (-1: no timer). */
    this.timerFor = -1;

    this.btnBack.addEventListener("click", () => this.back());
    this.btnPause.addEventListener("click", () => this.togglePause());
    this.btnNext.addEventListener("click", () => this.next());
    document.addEventListener("keydown", (ev) => this.onKey(ev));
    new ResizeObserver(() => this.layout()).observe(this.box);
    document.fonts.ready.then(() => this.layout());
  }

  /**
   * Show a revealed story: a new one from its opening, the same one where it is.
   * @param {RoomState} st
   * @param {number} roundIndex
   * @param {TeamStory} entry
   */
  show(st, roundIndex, entry) {
    const key = `${roundIndex}:${entry.team_id}`;
    if (key !== this.key) {
      this.key = key;
      this.sig = null;
      this.cursor = 0;
      this.paused = false;
      this.cancelTimer();
    }
    const writers = (entry.lines || []).map((line) => playerName(st, line.player_id));
    const sig = JSON.stringify([entry.prompt ? entry.prompt.opening : "", entry.lines, entry.writers, writers, lang]);
    this.active = true;
    show(this.root, true);
    if (sig !== this.sig) {
      this.sig = sig;
      this.build(st, entry);
      this.layout();
    } else {
      this.paint();
    }
    this.schedule();
  }

  /** Leave the reveal (another stage, another phase): no more timers. */
  stop() {
    this.active = false;
    this.cancelTimer();
  }

  /** Forget the story, so that showing it again starts from its opening. */
  reset() {
    this.stop();
    this.key = null;
  }

  /**
   * @param {RoomState} st
   * @param {TeamStory} entry
   */
  build(st, entry) {
    const names = new Map((entry.writers || []).map((w) => [w.id, w.name]));
    /** @type {Item[]} */
    const items = [];
    const opening = entry.prompt && entry.prompt.opening;
    if (opening) items.push({ el: h("li", { class: ["reveal-item", "story-opening"] }, opening), text: opening });
    for (const line of entry.lines || []) {
      if (line.hidden && line.text === undefined) {
        const text = t("story.hidden_line");
        items.push({ el: h("li", { class: ["reveal-item", "line-hidden"] }, text), text });
        continue;
      }
      const text = line.text || "";
      const writer = (line.player_id && names.get(line.player_id)) || playerName(st, line.player_id);
      items.push({
        el: h("li", { class: "reveal-item" }, h("span", { class: "story-text" }, text), writer ? [" ", h("span", { class: "line-writer" }, writer)] : null),
        text,
      });
    }
    this.items = items;
    this.cursor = Math.min(this.cursor, Math.max(0, items.length - 1));
    fill(this.list, items.map((item) => item.el));
  }

  /** Size the text so the longest line fits a page, cut the story into pages, paint. */
  layout() {
    if (!this.active || !this.items.length) return;
    const avail = this.box.clientHeight;
    if (avail <= 0) return;
    for (const item of this.items) {
      item.el.hidden = false;
      item.el.classList.remove("pending");
    }
    let scale = 1;
    this.list.style.fontSize = "";
    const tallest = () => Math.max(...this.items.map((item) => item.el.getBoundingClientRect().height));
    while (tallest() > avail && scale > MIN_SCALE) {
      scale = Math.max(MIN_SCALE, scale * 0.9);
      this.list.style.fontSize = `${scale}em`;
    }
    // A page holds the items that fit below its first one.
    /** @type {number[]} */
    const pages = [0];
    let pageTop = this.items[0].el.getBoundingClientRect().top;
    this.items.forEach((item, index) => {
      const rect = item.el.getBoundingClientRect();
      if (index > pages[pages.length - 1] && rect.bottom - pageTop > avail) {
        pages.push(index);
        pageTop = rect.top;
      }
    });
    this.pages = pages;
    this.paint();
  }

  /** The page the item at `index` is on. */
  pageOf(index = this.cursor) {
    let page = 0;
    this.pages.forEach((start, i) => {
      if (start <= index) page = i;
    });
    return page;
  }

  paint() {
    const page = this.pageOf();
    const first = this.pages[page];
    const end = page + 1 < this.pages.length ? this.pages[page + 1] : this.items.length;
    this.items.forEach((item, index) => {
      item.el.hidden = index < first || index >= end;
      // Lines still to come keep their place, so nothing moves when they appear.
      item.el.classList.toggle("pending", index > this.cursor);
      item.el.classList.toggle("newest", index === this.cursor && index > first);
    });
    const last = this.items.length - 1;
    const done = this.cursor >= last;
    const parts = [t("screen.reveal_line", { n: this.cursor + 1, count: this.items.length })];
    if (this.pages.length > 1) parts.push(t("screen.reveal_page", { n: page + 1, count: this.pages.length }));
    if (done) parts.push(t("screen.reveal_end"));
    else if (this.paused) parts.push(t("common.paused"));
    setText(this.progress, parts.join(" · "));
    this.btnBack.disabled = page === 0;
    this.btnNext.disabled = done;
    this.btnPause.disabled = done;
    setText(this.btnPause, this.paused ? t("screen.reveal_play") : t("screen.reveal_pause"));
    this.btnPause.setAttribute("aria-pressed", String(this.paused));
    const turnsPage = !done && this.pageOf(this.cursor + 1) !== page;
    setText(this.btnNext, turnsPage ? t("screen.reveal_next_page") : t("screen.reveal_next_line"));
  }

  /** Start the timer to the next line, unless one already runs for this line. */
  schedule() {
    const last = this.items.length - 1;
    if (!this.active || this.paused || this.cursor >= last) {
      this.cancelTimer();
      return;
    }
    if (this.timerFor === this.cursor) return;
    this.cancelTimer();
    this.timerFor = this.cursor;
    this.timer = setTimeout(() => {
      this.timerFor = -1;
      this.next();
    }, dwellMs(this.items[this.cursor].text));
  }

  cancelTimer() {
    clearTimeout(this.timer);
    this.timerFor = -1;
  }

  next() {
    if (!this.active || this.cursor >= this.items.length - 1) return;
    this.cursor += 1;
    this.paint();
    this.cancelTimer();
    this.schedule();
  }

  /** Back a page, shown whole; the pace waits until resumed. */
  back() {
    const page = this.pageOf();
    if (!this.active || page === 0) return;
    this.cursor = this.pages[page] - 1;
    this.paused = true;
    this.cancelTimer();
    this.paint();
  }

  togglePause() {
    if (!this.active) return;
    this.paused = !this.paused;
    this.cancelTimer();
    this.paint();
    this.schedule();
  }

  /** @param {KeyboardEvent} ev */
  onKey(ev) {
    if (!this.active || ev.altKey || ev.ctrlKey || ev.metaKey || ev.defaultPrevented) return;
    const target = ev.target;
    const onControl = target instanceof HTMLButtonElement || target instanceof HTMLInputElement;
    switch (ev.key) {
      case "ArrowRight":
      case "PageDown":
        this.next();
        break;
      case " ":
        if (onControl) return; // the focused button's own click
        this.next();
        break;
      case "ArrowLeft":
      case "PageUp":
        this.back();
        break;
      case "p":
      case "P":
        this.togglePause();
        break;
      default:
        return;
    }
    ev.preventDefault();
  }
}
