// The player's story round: writing a line on their turn, following the
// other teams, then reading the stories and voting for one.

import { h, byId, fill, show, setText, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { icon } from "../icons.js";
import { Countdown } from "../countdown.js";
import { announce, codeFromPath, errorText, playerName, promptMeta, store, storyText, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { RoomState, Story, TeamStory, WireError } from "../types.js" */
/** @import { RoomSocket } from "../net.js" */
/** @import { Me } from "./me_bar.js" */

/** @type {Record<string, string>} */
const HEADINGS = { writing: "story.write_title", reveal: "story.reveal_title", voting: "story.vote_title", results: "story.results" };

/**
 * The line being written, kept on the device so a reload mid-turn loses nothing.
 * @typedef {{player: string | null, turn: string, text: string}} Draft
 */
const draftKey = () => `ritrovo.draft.${codeFromPath()}`;

/** The story phase of the player's page. */
export class StoryView {
  /** @param {() => RoomSocket | null} socket the page's connection, when it has one */
  constructor(socket) {
    this.socket = socket;
    this.input = byId("line-input", HTMLTextAreaElement);
    this.composer = byId("composer", HTMLFormElement);
    this.countdown = new Countdown(byId("story-countdown"), {
      announce: (s) => announce(s === 0 ? t("common.times_up") : t("common.seconds_left", { n: s }), { assertive: s <= 10 }),
    });
    /** Whether "N characters left" was already said for this line. */
    this.charWarned = false;
    /** @type {Draft | null} whose turn the composer is for (null: nobody's, it is hidden) */
    this.turn = null;

    this.composer.addEventListener("submit", (e) => this.sendLine(e));
    this.input.addEventListener("input", () => {
      // Lines are single lines: pasted line breaks become spaces.
      if (/[\r\n]/.test(this.input.value)) this.input.value = this.input.value.replace(/[\r\n]+/g, " ");
      this.updateCounter();
      if (this.turn) store.set(draftKey(), { ...this.turn, text: this.input.value });
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        this.composer.requestSubmit();
      }
    });
  }

  stop() {
    this.countdown.stop();
  }

  /**
   * @param {RoomState} st
   * @param {Story} s
   * @param {Me} me
   */
  render(st, s, me) {
    const mine = (me.teamId && s.teams[me.teamId]) || null;
    const round = st.round;
    setText(byId("story-round"), round ? `${s.title} · ${t("common.round", { n: round.index + 1, count: round.count })}` : s.title);
    setText(byId("story-heading"), t(HEADINGS[s.stage] || "story.write_title"));

    const writing = s.stage === "writing";
    show(byId("story-writing"), writing);
    show(byId("story-after"), !writing);

    // The prompt (own team's) while writing.
    const promptBox = byId("story-prompt");
    const promptSig = JSON.stringify([writing, mine && mine.prompt, lang]);
    if (promptBox.dataset.sig !== promptSig) {
      promptBox.dataset.sig = promptSig;
      if (writing && mine && mine.prompt) {
        fill(
          promptBox,
          promptMeta(mine.prompt),
          mine.prompt.opening ? [h("p", { class: "small muted" }, t("story.opening")), h("p", { class: "story story-opening" }, mine.prompt.opening)] : null,
        );
      } else {
        fill(promptBox);
      }
    }

    if (writing) this.renderWriting(st, s, mine, me);
    else this.renderAfter(st, s, me);
  }

  /**
   * @param {RoomState} st
   * @param {Story} s
   * @param {TeamStory | null} mine
   * @param {Me} me
   */
  renderWriting(st, s, mine, me) {
    const yourTurn = me.you && me.you.your_turn ? me.you.your_turn : null;
    const composer = this.composer;
    const wasHidden = composer.hidden;
    show(composer, !!yourTurn);
    const input = this.input;
    input.maxLength = s.max_chars;
    this.updateCounter();
    const turnKey = mine ? `${mine.team_id}:${mine.turns_done}` : "none";
    this.turn = yourTurn ? { player: me.id, turn: turnKey, text: "" } : null;
    if (yourTurn && wasHidden) {
      // A draft of this very turn (the page was reloaded mid-line) comes back.
      /** @type {Draft | null} */
      const draft = store.get(draftKey());
      if (draft && draft.player === me.id && draft.turn === turnKey && !input.value) {
        input.value = draft.text;
        this.updateCounter();
      }
      announce(t("story.your_turn"), { assertive: true });
      show(byId("line-error"), false);
      if (document.activeElement === document.body || !document.activeElement) input.focus();
    }
    const prev = mine && mine.previous_line ? mine.previous_line : null;
    show(byId("previous-line-box"), !!(yourTurn && prev && s.visibility === "chain"));
    if (prev) setText(byId("previous-line"), prev.text);

    const box = byId("story-countdown-box");
    if (yourTurn) {
      show(box, true);
      this.countdown.set({ deadlineAt: yourTurn.deadline_at, paused: yourTurn.paused, remaining: yourTurn.seconds_left, total: s.seconds_per_turn, key: turnKey });
    } else if (mine && mine.writer) {
      show(box, true);
      this.countdown.set({ deadlineAt: mine.turn_deadline_at, paused: s.paused, remaining: mine.seconds_left, total: s.seconds_per_turn, key: turnKey });
    } else {
      show(box, false);
      this.countdown.stop();
    }
    show(byId("story-paused"), s.paused);

    const status = byId("turn-status");
    let statusText = "";
    if (!yourTurn && mine) {
      if (mine.done) statusText = t("story.team_done");
      else if (mine.writer) statusText = t("story.waiting_writer", { name: playerName(st, mine.writer) });
      else statusText = t("story.waiting_nobody");
      if (s.visibility === "chain" && !mine.done) statusText += ` ${t("story.chain_secret")}`;
    }
    show(status, !!statusText);
    setText(status, statusText);

    const storyBox = byId("my-story-box");
    const visible = mine && mine.lines !== undefined;
    show(storyBox, !!visible);
    if (mine && visible) {
      const sig = JSON.stringify([mine.lines, mine.writers, lang]);
      const el = byId("my-story");
      if (el.dataset.sig !== sig) {
        el.dataset.sig = sig;
        // The opening is already shown with the prompt.
        fill(el, storyText({ ...mine, prompt: {} }, st));
      }
    }

    keyed(
      byId("story-progress"),
      storyEntries(s),
      (e) => e.team_id,
      (e) => JSON.stringify([e.name, e.lines_count, e.writer, e.done, playerName(st, e.writer), me.teamId, lang]),
      (e) =>
        h(
          "li",
          { class: `team-${teamSlot(teamsInRoomOrder(st), e.team_id)}` },
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          h("span", { class: "grow" }, e.name, e.team_id === me.teamId ? h("span", { class: "tag" }, t("common.you")) : null),
          h(
            "span",
            { class: "muted small" },
            t(e.lines_count === 1 ? "story.lines_count_one" : "story.lines_count", { n: e.lines_count }),
            " · ",
            e.done ? `✓ ${t("story.done")}` : e.writer ? `✎ ${t("story.turn", { name: playerName(st, e.writer) })}` : "…",
          ),
        ),
    );
  }

  /** The "12/160" under the line being written, and its warnings near the limit. */
  updateCounter() {
    const input = this.input;
    const max = input.maxLength > 0 ? input.maxLength : 160;
    const n = input.value.length;
    const left = max - n;
    const counter = byId("char-counter");
    setText(counter, t("story.chars", { n, max }));
    counter.classList.toggle("near-limit", left <= 20 && left > 0);
    counter.classList.toggle("at-limit", left <= 0);
    if (left <= 20 && !this.charWarned) {
      this.charWarned = true;
      announce(t("story.chars_left", { n: left }));
    }
    if (left > 20) this.charWarned = false;
  }

  /** @param {SubmitEvent} event */
  async sendLine(event) {
    event.preventDefault();
    const input = this.input;
    const text = input.value.replace(/\s+/g, " ").trim();
    const error = byId("line-error");
    if (!text) {
      setText(error, t("err.empty_line"));
      show(error, true);
      input.focus();
      return;
    }
    const socket = this.socket();
    if (!socket) return;
    const button = byId("line-button", HTMLButtonElement);
    button.disabled = true;
    try {
      await socket.request("line", { text });
      input.value = "";
      store.remove(draftKey());
      show(error, false);
      this.updateCounter();
    } catch (err) {
      setText(error, errorText(/** @type {WireError} */ (err)));
      show(error, true);
    } finally {
      button.disabled = false;
    }
  }

  /**
   * Once the writing is over: the stories as they are revealed, the vote, the results.
   * @param {RoomState} st
   * @param {Story} s
   * @param {Me} me
   */
  renderAfter(st, s, me) {
    const team = me.teamId;
    const myVote = me.you ? me.you.my_vote : null;
    const help = { reveal: t("story.waiting_reveal"), voting: t("story.vote_help"), results: "", writing: "" }[s.stage] || "";
    setText(byId("story-after-help"), help);
    show(byId("story-after-help"), !!help);
    if (s.stage !== "voting") show(byId("vote-flash"), false);

    const box = byId("story-countdown-box");
    if (s.stage === "voting" && s.vote_deadline_at) {
      show(box, true);
      this.countdown.set({ deadlineAt: s.vote_deadline_at, total: null, key: `vote:${s.round_index}` });
    } else {
      show(box, false);
      this.countdown.stop();
    }
    show(byId("story-paused"), false);

    const winners = new Set(s.winners || []);
    keyed(
      byId("story-cards"),
      storyEntries(s),
      (e) => e.team_id,
      (e) => JSON.stringify([e, s.stage, myVote, team, (s.vote_counts || {})[e.team_id], (s.points || {})[e.team_id], winners.has(e.team_id), lang]),
      (e) => {
        const own = e.team_id === team;
        const chosen = myVote === e.team_id;
        const revealed = e.lines !== undefined;
        let action = null;
        if (s.stage === "voting") {
          action = own
            ? h("p", { class: "muted small" }, t("story.own_team"))
            : h(
                "button",
                {
                  type: "button",
                  class: ["btn", "btn-block", chosen ? "btn-primary" : ""],
                  "aria-pressed": String(chosen),
                  dataset: { fk: `vote-${e.team_id}` },
                  onclick: () => this.vote(e.team_id, e.name),
                },
                chosen ? [h("span", { "aria-hidden": "true" }, "✓"), t("story.your_vote")] : t("story.vote_for", { team: e.name }),
              );
        } else if (s.stage === "results") {
          const votes = (s.vote_counts || {})[e.team_id] || 0;
          action = h(
            "p",
            { class: "row" },
            winners.has(e.team_id) ? h("span", { class: "verdict verdict-correct" }, icon("trophy"), t("story.winner")) : null,
            h("strong", {}, t(votes === 1 ? "story.votes_one" : "story.votes", { n: votes })),
            h("span", { class: "muted" }, t("story.points", { n: (s.points || {})[e.team_id] || 0 })),
          );
        }
        return h(
          "li",
          { class: ["vote-card", `team-${teamSlot(teamsInRoomOrder(st), e.team_id)}`, chosen && "chosen"] },
          // h2: the cards come right under the phase's h1.
          h("h2", {}, h("span", { class: "team-dot", "aria-hidden": "true" }), e.name, own ? h("span", { class: "tag" }, t("common.you")) : null),
          revealed ? storyText(e, st) : h("p", { class: "muted" }, t("story.not_revealed")),
          action,
        );
      },
    );
  }

  /**
   * @param {string} teamId
   * @param {string} name
   */
  async vote(teamId, name) {
    const socket = this.socket();
    if (!socket) return;
    const el = byId("vote-flash");
    try {
      await socket.request("vote", { team: teamId });
      fill(el, h("span", { "aria-hidden": "true" }, "✓ "), t("story.voted", { team: name }));
      show(el, true);
    } catch (err) {
      setText(el, errorText(/** @type {WireError} */ (err)));
      show(el, true);
    }
  }
}

/**
 * The teams' stories in the order they are revealed.
 * @param {Story} s
 * @returns {TeamStory[]}
 */
export function storyEntries(s) {
  return s.reveal_order.map((tid) => s.teams[tid]).filter(Boolean);
}
