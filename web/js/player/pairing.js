// Coffee pairing on the player's phone: who you are with, your breakout
// room, the conversation prompt and the timer (all from your own `you`
// message: nobody else's group reaches this page); and, in the lobby, the
// mentoring choice ("new here" / "experienced"). A partner who leaves moves
// you into another group (a new breakout room) or, with nobody else, leaves
// you on your own: the card says so.

import { byId, show, setText, $$ } from "../dom.js";
import { t } from "../i18n.js";
import { announce } from "../common.js";
import { Countdown } from "../countdown.js";

/** @import { RoomState, YouMessage, YourPairing } from "../types.js" */

/**
 * "Ada (Team Bora) and Bea (Team Aurora)".
 * @param {YourPairing} pairing
 */
export function mateNames(pairing) {
  const names = pairing.with.map((m) => (m.team_name ? t("pairing.mate", { name: m.name, team: m.team_name }) : m.name));
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")}${t("pairing.and")}${names[names.length - 1]}`;
}

export class PairingCard {
  constructor() {
    this.countdown = new Countdown(byId("pairing-countdown"), {
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s })),
    });
    /** @type {string | null} the group last announced */
    this.announced = null;
  }

  /**
   * @param {RoomState} st
   * @param {YouMessage | null} you
   */
  render(st, you) {
    const card = byId("pairing-card");
    const summary = st.pairing || null;
    const mine = (you && you.pairing) || null;
    // `you` may lag the state by a frame: a group is shown only while the room's pairing runs.
    const running = !!summary && st.phase !== "riddle" && st.phase !== "story" && st.phase !== "whoswho";
    show(card, running);
    if (!running || !summary) {
      this.countdown.stop();
      this.announced = null;
      return;
    }
    setText(byId("pairing-heading"), t("pairing.rotation", { n: summary.rotation }));
    show(byId("pairing-mine"), !!mine);
    show(byId("pairing-not-in"), !mine);
    const timer = mine || summary;
    this.countdown.set({ deadlineAt: timer.deadline_at, total: timer.seconds, key: `${timer.rotation}:${timer.started_at}` });
    if (!mine) return;
    const withText = mine.with.length ? t("pairing.you_are_with", { names: mateNames(mine) }) : t("pairing.alone");
    const breakout = t("pairing.breakout", { n: mine.breakout });
    setText(byId("pairing-with"), withText);
    setText(byId("pairing-breakout"), breakout);
    setText(byId("pairing-prompt"), mine.prompt);
    const key = `${mine.rotation}:${mine.started_at}:${mine.breakout}:${mine.with.map((m) => m.id).join(",")}`;
    if (this.announced !== key) {
      this.announced = key;
      announce(`${withText}. ${breakout}.`);
    }
  }
}

/** The choice just made and not yet confirmed by the server ("" is "no answer"), or null. */
let pendingRole = /** @type {string | null} */ (null);

/**
 * The lobby's mentoring choice, as the server last said it, or as the player
 * just chose it while the server has not answered yet (an update that comes
 * meanwhile, for another player's join, must not flip the radio back).
 * @param {YouMessage | null} you
 */
export function renderMentoring(you) {
  const stored = (you && you.player && you.player.mentoring_role) || "";
  if (pendingRole === stored) pendingRole = null;
  const role = pendingRole ?? stored;
  for (const input of $$('#mentoring-choice input[name="mentoring"]')) {
    if (input instanceof HTMLInputElement) input.checked = input.value === role;
  }
}

/**
 * Send the choice when it changes; a refused one goes back to the server's.
 * @param {(role: string | null) => Promise<unknown>} send
 * @param {() => YouMessage | null} current the latest `you`, to show again on a refusal
 */
export function wireMentoring(send, current) {
  for (const input of $$('#mentoring-choice input[name="mentoring"]')) {
    if (!(input instanceof HTMLInputElement)) continue;
    input.addEventListener("change", async () => {
      if (!input.checked) return;
      pendingRole = input.value;
      try {
        await send(input.value || null);
      } catch {
        pendingRole = null;
        renderMentoring(current());
      }
    });
  }
}
