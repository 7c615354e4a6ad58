// The console's coffee pairing panel: minutes, the mentoring option, start,
// shuffle and end; while a pairing runs, its timer and the breakout rooms as
// text to copy into the meeting tool (in the console's language).

import { byId, show, setText } from "../dom.js";
import { t, lang } from "../i18n.js";
import { Countdown } from "../countdown.js";

/** @import { RoomState } from "../types.js" */

/** @typedef {(type: string, fields?: Record<string, unknown>) => Promise<unknown>} Send */

export class PairingPanel {
  constructor() {
    this.countdown = new Countdown(byId("pairing-countdown"));
  }

  /**
   * Wire the buttons to commands.
   * @param {Send} send
   */
  wire(send) {
    byId("btn-pairing-start").addEventListener("click", () => {
      const minutes = Number(byId("pairing-minutes", HTMLInputElement).value) || 5;
      const seconds = Math.round(Math.min(60, Math.max(1, minutes)) * 60);
      send("start_pairing", { seconds, mentoring: byId("pairing-mentoring", HTMLInputElement).checked });
    });
    byId("btn-pairing-shuffle").addEventListener("click", () => send("shuffle_pairing"));
    byId("btn-pairing-end").addEventListener("click", () => send("end_pairing"));
  }

  /** @param {RoomState} st */
  render(st) {
    const pairing = st.pairing || null;
    const roundRunning = st.phase === "riddle" || st.phase === "story" || st.phase === "whoswho";
    byId("btn-pairing-start", HTMLButtonElement).disabled = !!pairing || roundRunning;
    show(byId("btn-pairing-start"), !pairing);
    show(byId("btn-pairing-shuffle"), !!pairing);
    show(byId("btn-pairing-end"), !!pairing);
    byId("pairing-minutes", HTMLInputElement).disabled = !!pairing;
    byId("pairing-mentoring", HTMLInputElement).disabled = !!pairing;
    show(byId("pairing-countdown"), !!pairing);
    show(byId("pairing-assignment"), !!(pairing && pairing.assignment));
    if (!pairing) {
      this.countdown.stop();
      setText(byId("pairing-status"), roundRunning ? t("pairing.round_running") : "");
      return;
    }
    byId("pairing-mentoring", HTMLInputElement).checked = pairing.mentoring;
    this.countdown.set({ deadlineAt: pairing.deadline_at, total: pairing.seconds, key: `${pairing.rotation}:${pairing.started_at}` });
    setText(
      byId("pairing-status"),
      `${t("pairing.rotation", { n: pairing.rotation })} · ${t("pairing.groups", { n: pairing.groups })} · ${t("pairing.people", { n: pairing.players })}`,
    );
    setText(byId("pairing-prompt"), pairing.prompt);
    if (pairing.assignment) {
      const text = lang === "it" ? pairing.assignment.text.it : pairing.assignment.text.en;
      const area = byId("pairing-text", HTMLTextAreaElement);
      if (area.value !== text) area.value = text;
      area.rows = Math.min(16, pairing.assignment.groups.length + 2);
    }
  }
}
