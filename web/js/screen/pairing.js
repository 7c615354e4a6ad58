// The shared screen during a coffee pairing: that it runs, its timer, the
// prompt and how many groups there are. Never who is with whom: each phone
// shows its own group, and a screen listing 1,000 pairs could not be read.

import { byId, setText } from "../dom.js";
import { t } from "../i18n.js";
import { Countdown } from "../countdown.js";

/** @import { PairingSummary } from "../types.js" */

export class PairingStage {
  constructor() {
    this.countdown = new Countdown(byId("pairing-countdown"), { urgentBelow: 30 });
  }

  /** @param {PairingSummary} pairing */
  render(pairing) {
    setText(byId("pairing-kicker"), t("pairing.rotation", { n: pairing.rotation }));
    setText(byId("pairing-groups"), `${t("pairing.groups", { n: pairing.groups })} · ${t("pairing.people", { n: pairing.players })}`);
    setText(byId("pairing-prompt"), pairing.prompt);
    this.countdown.set({ deadlineAt: pairing.deadline_at, total: pairing.seconds, key: `${pairing.rotation}:${pairing.started_at}` });
  }

  stop() {
    this.countdown.stop();
  }
}
