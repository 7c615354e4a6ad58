// The console's game controls: "next" (labelled with what it does from
// here), pause and resume, more time (a riddle, a story's turns, a "Who's
// who" question), reveal, skip, finish.

import { byId, show, setText } from "../dom.js";
import { t } from "../i18n.js";

/** @import { RoomState } from "../types.js" */

/**
 * What "next" does from here: the key of its label, whether it can, and if
 * it cannot, the key of what to do first ("" when there is nothing to do).
 * @param {RoomState} st
 * @returns {{key: string, enabled: boolean, why?: string}}
 */
export function nextStep(st) {
  switch (st.phase) {
    case "lobby":
      return { key: "host.next.start", enabled: !!st.pack, why: "host.next.why_pack" };
    case "between_rounds":
      return { key: "host.next.next_round", enabled: true };
    case "riddle": {
      const r = st.riddle;
      if (!r) return { key: "host.next.generic", enabled: false };
      const more = r.index + 1 < r.count;
      return { key: more ? "host.next.next_riddle" : "host.next.end_round", enabled: r.stage === "revealed", why: "host.next.why_open" };
    }
    case "story": {
      const s = st.story;
      if (!s) return { key: "host.next.generic", enabled: false };
      if (s.stage === "writing") return { key: "host.next.end_writing", enabled: true };
      if (s.stage === "reveal") {
        const more = s.reveal_index + 1 < s.reveal_order.length;
        return { key: more ? "host.next.reveal_story" : "host.next.open_voting", enabled: true };
      }
      if (s.stage === "voting") return { key: "host.next.close_voting", enabled: true };
      return { key: "host.next.end_round", enabled: true };
    }
    case "whoswho": {
      const w = st.whoswho;
      if (!w) return { key: "host.next.generic", enabled: false };
      if (w.stage === "answering") return { key: "host.next.start_questions", enabled: true };
      const more = !!w.question && w.question.index + 1 < w.count;
      return { key: more ? "host.next.next_question" : "host.next.end_round", enabled: w.stage === "revealed", why: "host.next.why_question" };
    }
    default:
      return { key: "host.next.generic", enabled: false };
  }
}

/**
 * @param {RoomState} st
 * @param {boolean} busy a game command is in flight: every control waits for it
 */
export function renderControls(st, busy) {
  const r = st.phase === "riddle" ? st.riddle : null;
  const s = st.phase === "story" ? st.story : null;
  const riddleOpen = !!r && r.stage === "open";
  const questionOpen = st.phase === "whoswho" && !!st.whoswho && st.whoswho.stage === "open";
  const writing = !!s && s.stage === "writing";
  const question = questionOpen && st.whoswho ? st.whoswho.question : null;
  const paused = (riddleOpen && !!r && r.paused) || (writing && !!s && s.paused) || (!!question && question.paused);

  const next = nextStep(st);
  const nextButton = byId("btn-next", HTMLButtonElement);
  setText(nextButton, t(next.key));
  nextButton.disabled = busy || !next.enabled;
  // A greyed-out "next" says why (not while a command is merely in flight).
  const why = byId("next-why");
  const reason = !next.enabled && next.why ? t(next.why) : "";
  setText(why, reason);
  show(why, !!reason);

  const showRound = st.round && st.phase !== "finished" && st.phase !== "lobby";
  const phaseText = [t(`phase.${st.phase}`), showRound && st.round ? t("common.round", { n: st.round.index + 1, count: st.round.count }) : ""]
    .filter(Boolean)
    .join(" · ");
  setText(byId("game-status"), phaseText);

  /**
   * @param {string} id
   * @param {boolean} enabled
   * @param {boolean} [visible]
   */
  const set = (id, enabled, visible = true) => {
    const b = byId(id, HTMLButtonElement);
    b.disabled = busy || !enabled;
    show(b, visible);
  };
  set("btn-pause", (riddleOpen || writing || questionOpen) && !paused, !paused);
  set("btn-resume", paused, paused);
  set("btn-extend", riddleOpen || writing || questionOpen);
  set("btn-reveal", riddleOpen || questionOpen, ["riddle", "whoswho", "lobby", "between_rounds"].includes(st.phase));
  set("btn-skip", riddleOpen, st.phase === "riddle" || st.phase === "lobby" || st.phase === "between_rounds");
  set("btn-end-writing", writing, !!s);
  set("btn-close-voting", !!s && s.stage === "voting", !!s);
  set("btn-finish", st.phase !== "finished" && st.phase !== "closed");
  byId("auto-toggle", HTMLInputElement).disabled = busy;
}
