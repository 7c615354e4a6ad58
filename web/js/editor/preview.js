// The editor's preview of a riddle: the player's phone and the shared screen
// as they show it when the riddle opens, built with the same markup classes as
// player.html and screen.html (app.css styles them), without their ids.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { formatSeconds } from "../countdown.js";

/**
 * @typedef {object} PreviewRiddle
 * @property {string} roundTitle
 * @property {number} n the riddle's number in its round (from 1)
 * @property {number} count the riddles of the round
 * @property {string} text
 * @property {string[]} options
 * @property {number} timeLimit
 * @property {number} points
 * @property {{after: number, cost: number}[]} hints
 * @property {string} language the pack's
 */

/** @param {PreviewRiddle} r */
function phone(r) {
  const letter = (/** @type {number} */ i) => `${String.fromCharCode(65 + i)}.`;
  return h(
    "div",
    { class: "preview-phone stack", role: "group", "aria-label": t("editor.preview.phone") },
    h("p", { class: "preview-caption" }, t("editor.preview.phone")),
    h(
      "div",
      { class: "card stack" },
      h(
        "div",
        { class: "riddle-head" },
        h("div", {}, h("p", { class: "phase-title", lang: r.language }, r.roundTitle), h("p", { class: "h2" }, t("riddle.count", { n: r.n, count: r.count }))),
        h("div", { class: "countdown-box" }, h("span", { class: "countdown" }, formatSeconds(r.timeLimit))),
      ),
      h("div", { class: "timebar", "aria-hidden": "true" }, h("span", {})),
      h("p", { class: "riddle-text", lang: r.language }, r.text),
      h("p", { class: "muted small" }, t("riddle.worth", { n: r.points })),
    ),
    r.options.length
      ? h(
          "div",
          { class: "card stack" },
          h("p", { class: "label" }, t("riddle.choose")),
          h(
            "div",
            { class: "options" },
            r.options.map((text, i) =>
              h("button", { type: "button", class: "btn option-btn", disabled: true, lang: r.language }, h("span", { "aria-hidden": "true" }, letter(i)), " ", text),
            ),
          ),
        )
      : h(
          "div",
          { class: "card stack" },
          h("p", { class: "label" }, t("riddle.guess_label")),
          h(
            "div",
            { class: "guess-form" },
            h("input", { disabled: true, placeholder: t("riddle.guess_placeholder"), "aria-label": t("riddle.guess_label") }),
            h("button", { type: "button", class: "btn btn-primary", disabled: true }, t("riddle.send")),
          ),
        ),
    r.hints.length
      ? h(
          "div",
          { class: "card stack" },
          h("p", { class: "label" }, t("riddle.hints")),
          h(
            "ul",
            { class: "hint-list" },
            r.hints.map((hint, i) =>
              h("li", { class: "hint muted" }, t("riddle.hint_in", { n: i + 1, time: formatSeconds(hint.after) }), " · ", t("riddle.hint_cost", { cost: hint.cost })),
            ),
          ),
        )
      : null,
  );
}

/** @param {PreviewRiddle} r */
function screen(r) {
  return h(
    "div",
    { class: "preview-screen screen", role: "group", "aria-label": t("editor.preview.screen") },
    h("p", { class: "preview-caption" }, t("editor.preview.screen")),
    h(
      "div",
      { class: "screen-stage" },
      h("div", { class: "screen-kicker" }, [r.roundTitle, t("riddle.count", { n: r.n, count: r.count })].filter(Boolean).join(" · ")),
      h("p", { class: "screen-riddle", lang: r.language }, r.text),
      r.options.length
        ? h(
            "ul",
            { class: "screen-options" },
            r.options.map((text, i) => h("li", {}, h("span", { lang: r.language }, `${String.fromCharCode(65 + i)}. `, text))),
          )
        : null,
      h(
        "div",
        { class: "screen-count-row" },
        h("span", { class: "countdown" }, formatSeconds(r.timeLimit)),
        h("div", { class: "timebar", "aria-hidden": "true" }, h("span", {})),
      ),
    ),
  );
}

/**
 * The phone and the screen side by side.
 * @param {PreviewRiddle} r
 */
export function riddlePreview(r) {
  return h("div", { class: "preview-pair" }, phone(r), screen(r));
}
