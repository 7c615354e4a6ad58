// The pack editor's "try an answer" box: what the game's matcher says of a
// guess at a riddle as it is being written (POST /api/packs/try), in the
// pack's language: right, close with the nudge the team would read, or wrong.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { errorText, refusalOf } from "../common.js";

/** @import { WireError } from "../types.js" */

/**
 * What the server judges a guess against.
 * @typedef {object} Trial
 * @property {unknown} language the pack's
 * @property {unknown} defaults the pack's riddle defaults, or null
 * @property {unknown} riddle the riddle's fields
 */

/**
 * The "try an answer" box of a riddle.
 * @param {string} id the input's
 * @param {number} n the riddle's number, in its label
 * @param {string} language the pack's, that of the guesses
 * @param {() => Trial} trial the riddle as it is when the guess is tried
 */
export function tryBox(id, n, language, trial) {
  const input = h("input", { id, type: "text", maxlength: 200, autocomplete: "off", spellcheck: "false" });
  if (language) input.lang = language;
  const out = h("p", { class: "verdict-flash", role: "status", "aria-live": "polite", hidden: true });
  const form = h(
    "form",
    { class: "editor-try stack", novalidate: true },
    h("label", { for: id }, t("editor.try.label", { n })),
    h("div", { class: "guess-form" }, input, h("button", { type: "submit", class: "btn btn-primary" }, t("editor.try.button"))),
    out,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    tryAnswer(input, out, trial);
  });
  return form;
}

/**
 * @param {HTMLInputElement} input
 * @param {HTMLElement} out
 * @param {() => Trial} trial
 */
async function tryAnswer(input, out, trial) {
  if (!input.value.trim()) {
    input.focus();
    return;
  }
  /** @param {string} kind @param {string} text */
  const say = (kind, text) => {
    out.className = `verdict-flash ${kind}`;
    out.textContent = text;
    out.hidden = false;
  };
  const body = { ...trial(), guess: input.value };
  try {
    const response = await fetch("/api/packs/try", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      if (data.verdict === "correct") say("correct", `✓ ${t("editor.try.correct", { answer: data.matched })}`);
      else if (data.verdict === "near") say("near", data.nudge ? t("editor.try.near", { nudge: data.nudge }) : t("editor.try.near_plain"));
      else say("wrong", `✗ ${t("editor.try.wrong")}`);
      return;
    }
    /** @type {WireError} */
    const err = refusalOf(data, response);
    if (err.code === "invalid_pack" && Array.isArray(err.problems) && err.problems.length) {
      const first = /** @type {{field: string, message: string}} */ (err.problems[0]);
      say("info", t("editor.try.fix_first", { problem: first.field ? `${first.field}: ${first.message}` : first.message }));
    } else {
      say("wrong", errorText(err));
    }
  } catch (e) {
    say("wrong", t("common.error", { message: String(/** @type {Error} */ (e).message || e) }));
  }
}
