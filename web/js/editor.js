// The pack editor (/editor, /editor?room=CODE): write a pack in a form, checked
// by the server's own validator as one types, try answers with the game's
// matcher, preview a riddle, then download it as YAML, save it to a room or
// start a room with it. The pack is held as the fields of its file
// (docs/packs.md), so a problem's field path ("rounds[0].riddles[2].answers")
// names the input it belongs next to.

import { h, byId, fill, show, downloadBlob } from "./dom.js";
import { initI18n, lang, t } from "./i18n.js";
import { announce, askConfirm, errorText, hostKey, normalizeCode, rememberHostedRoom, store } from "./common.js";
import { toYaml } from "./editor/yaml.js";
import { riddlePreview } from "./editor/preview.js";

/** @import { PackSummary, WireError } from "./types.js" */
/** @typedef {{[key: string]: any}} Obj */
/** @typedef {{field: string, message: string}} Problem */

const CHECK_DELAY_MS = 500;
// The pack being written is kept in this browser, so a reload or a closed tab loses nothing.
const DRAFT_KEY = "ritrovo.editor.draft";
const DEFAULT_TIME_LIMIT = 60;
const DEFAULT_POINTS = 100;

const roomCode = normalizeCode(new URLSearchParams(location.search).get("room") || "");

/** @type {Obj} */
let pack = blankPack();
let dirty = false;
/** @type {Map<string, {control: HTMLElement, error: HTMLElement}>} every input (and list) by its field path */
const controls = new Map();
/** @type {Problem[]} the validator's last answer */
let problems = [];
/** @type {"checking" | "valid" | "invalid" | "failed"} */
let checkState = "checking";
let checkMessage = "";
/** @type {Obj | null} the valid pack's summary */
let summary = null;
let checkTimer = 0;
let checkSeq = 0;
/** @type {Set<string>} riddles whose preview is open, by path */
const previews = new Set();

// ---- the pack's fields ------------------------------------------------------------------------

/** @returns {Obj} */
function blankRiddle() {
  return { text: "", answers: [] };
}

/** @returns {Obj} */
function blankPack() {
  return { id: "my-pack", title: "", language: lang, rounds: [{ kind: "riddles", title: "", riddles: [blankRiddle()] }] };
}

/** @returns {Obj} */
function blankStoryRound() {
  return { kind: "story", title: "", prompts: [{ opening: "" }], turns_per_player: 2, seconds_per_turn: 60, max_chars: 160, visibility: "full", vote_seconds: 0 };
}

/** @param {string} path */
function keysOf(path) {
  return (path.match(/[^.[\]]+/g) || []).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** @param {string} path */
function getAt(path) {
  /** @type {any} */
  let node = pack;
  for (const key of keysOf(path)) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[key];
  }
  return node;
}

/**
 * Set a field; undefined removes it (the default applies).
 * @param {string} path
 * @param {unknown} value
 */
function setAt(path, value) {
  const keys = keysOf(path);
  const last = /** @type {string | number} */ (keys.pop());
  /** @type {any} */
  let node = pack;
  for (const key of keys) {
    if (node[key] === null || typeof node[key] !== "object") node[key] = {};
    node = node[key];
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
  if (pack.defaults && Object.keys(pack.defaults).length === 0) delete pack.defaults;
}

// ---- fields of the form -----------------------------------------------------------------------

/** @param {string} path */
function fieldId(path) {
  return `f-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/**
 * A labelled control with its help and its problem, registered under its path.
 * @param {string} path
 * @param {string} label
 * @param {HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement} control
 * @param {string} [help]
 */
function field(path, label, control, help) {
  const id = fieldId(path);
  control.id = id;
  control.dataset.path = path;
  const error = h("p", { id: `${id}-error`, class: "field-error" });
  error.hidden = true;
  control.setAttribute("aria-describedby", [help ? `${id}-help` : "", `${id}-error`].filter(Boolean).join(" "));
  controls.set(path, { control, error });
  return h("div", { class: "field" }, h("label", { for: id }, label), control, help ? h("p", { id: `${id}-help`, class: "field-help" }, help) : null, error);
}

/**
 * A problem shown for a whole list (a round's riddles, a riddle's hints), next to its button.
 * @param {string} path
 * @param {HTMLElement} focus what "go to the problem" focuses
 */
function listProblem(path, focus) {
  const error = h("p", { id: `${fieldId(path)}-error`, class: "field-error" });
  error.hidden = true;
  controls.set(path, { control: focus, error });
  return error;
}

/**
 * @param {string} path
 * @param {string} label
 * @param {{required?: boolean, multiline?: boolean, help?: string, lang?: boolean}} [options]
 */
function textField(path, label, { required = false, multiline = false, help = "", lang: inPackLanguage = true } = {}) {
  const value = getAt(path);
  const control = multiline ? h("textarea", { rows: 2 }) : h("input", { type: "text" });
  control.value = value === undefined || value === null ? "" : String(value);
  if (inPackLanguage && pack.language) control.lang = String(pack.language);
  control.addEventListener("input", () => {
    setAt(path, control.value === "" && !required ? undefined : control.value);
    changed();
  });
  return field(path, label, control, help);
}

/**
 * Texts one a line (answers, options, words to use).
 * @param {string} path
 * @param {string} label
 * @param {{required?: boolean, help?: string}} [options]
 */
function linesField(path, label, { required = false, help = "" } = {}) {
  const value = getAt(path);
  const control = h("textarea", { rows: 2 });
  control.value = Array.isArray(value) ? value.join("\n") : value === undefined || value === null ? "" : String(value);
  if (pack.language) control.lang = String(pack.language);
  control.addEventListener("input", () => {
    const list = control.value
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    setAt(path, list.length || required ? list : undefined);
    changed();
  });
  return field(path, label, control, help);
}

/**
 * A whole number; empty means the default (shown as the placeholder).
 * @param {string} path
 * @param {string} label
 * @param {{placeholder?: string | number, help?: string}} [options]
 */
function numberField(path, label, { placeholder = "", help = "" } = {}) {
  const value = getAt(path);
  const control = h("input", { type: "number", inputmode: "numeric", step: 1, placeholder: String(placeholder) });
  control.value = value === undefined || value === null ? "" : String(value);
  control.addEventListener("input", () => {
    const raw = control.value.trim();
    // Anything but a whole number goes to the validator as typed: it says what is wrong.
    setAt(path, raw === "" ? undefined : /^-?\d+$/.test(raw) ? Number(raw) : raw);
    changed();
  });
  return field(path, label, control, help);
}

/**
 * @param {string} path
 * @param {string} label
 * @param {[string, string][]} choices value, text ("" for the default)
 * @param {(value: string) => unknown} parse
 */
function selectField(path, label, choices, parse) {
  const value = getAt(path);
  const control = h(
    "select",
    {},
    choices.map(([v, text]) => h("option", { value: v }, text)),
  );
  control.value = value === undefined || value === null ? "" : String(value);
  control.addEventListener("change", () => {
    setAt(path, control.value === "" ? undefined : parse(control.value));
    changed();
  });
  return field(path, label, control);
}

/**
 * @param {string} path
 * @param {string} defaultText
 */
function typoField(path, defaultText) {
  return selectField(
    path,
    t("editor.field.typo_tolerance"),
    [
      ["", defaultText],
      ["auto", t("editor.typo.auto")],
      ["0", t("editor.typo.n", { n: 0 })],
      ["1", t("editor.typo.n", { n: 1 })],
      ["2", t("editor.typo.n", { n: 2 })],
      ["3", t("editor.typo.n", { n: 3 })],
    ],
    (v) => (v === "auto" ? v : Number(v)),
  );
}

/**
 * @param {string} path
 * @param {string} defaultText
 */
function numbersField(path, defaultText) {
  return selectField(
    path,
    t("editor.field.numbers"),
    [
      ["", defaultText],
      ["true", t("editor.numbers.yes")],
      ["false", t("editor.numbers.no")],
    ],
    (v) => v === "true",
  );
}

/**
 * A small button that changes the pack's structure.
 * @param {string} text
 * @param {string} label its accessible name, naming what it acts on
 * @param {() => string | null} action returns the path of what to focus next
 * @param {{disabled?: boolean, danger?: boolean}} [options]
 */
function structureButton(text, label, action, { disabled = false, danger = false } = {}) {
  return h(
    "button",
    {
      type: "button",
      class: ["btn btn-small", danger && "btn-ghost"],
      "aria-label": label === text ? null : label,
      disabled,
      onclick: () => restructure(action),
    },
    text,
  );
}

/**
 * @param {any[]} list
 * @param {number} index
 * @param {number} by -1 or +1
 */
function move(list, index, by) {
  const [item] = list.splice(index, 1);
  list.splice(index + by, 0, item);
}

/**
 * Move, add or remove, then draw the form again and put the focus where it belongs.
 * @param {() => string | null} action
 */
function restructure(action) {
  const focusPath = action();
  previews.clear();
  render();
  changed();
  if (focusPath) focusField(focusPath);
}

/** @param {string} path */
function focusField(path) {
  const entry = controls.get(path);
  const target = entry ? entry.control : document.querySelector(`[data-block="${CSS.escape(path)}"]`);
  if (target instanceof HTMLElement) target.focus();
}

// ---- the form ---------------------------------------------------------------------------------

function packFields() {
  return [
    h(
      "div",
      { class: "editor-grid" },
      textField("id", t("editor.field.id"), { required: true, help: t("editor.help.id"), lang: false }),
      textField("title", t("editor.field.title"), { required: true }),
      textField("language", t("editor.field.language"), { required: true, help: t("editor.help.language"), lang: false }),
      textField("author", t("editor.field.author")),
    ),
    textField("description", t("editor.field.description"), { multiline: true }),
    h(
      "fieldset",
      { class: "editor-group" },
      h("legend", {}, t("editor.defaults.title")),
      h("p", { class: "field-help" }, t("editor.defaults.help")),
      h(
        "div",
        { class: "editor-grid" },
        numberField("defaults.time_limit", t("editor.field.time_limit"), { placeholder: DEFAULT_TIME_LIMIT }),
        numberField("defaults.points", t("editor.field.points"), { placeholder: DEFAULT_POINTS }),
        typoField("defaults.typo_tolerance", t("editor.typo.default_auto")),
        numbersField("defaults.numbers", t("editor.numbers.default_no")),
      ),
    ),
  ];
}

/**
 * @param {Obj} round
 * @param {number} i
 * @param {number} count
 */
function roundSection(round, i, count) {
  const base = `rounds[${i}]`;
  const story = round.kind === "story";
  const headingId = `round-${i}-heading`;
  const heading = h("h3", { id: headingId, tabindex: -1, "data-block": base }, t(story ? "editor.round.story" : "editor.round.riddles", { n: i + 1 }));
  const n = i + 1;
  return h(
    "section",
    { class: "card stack editor-round", "aria-labelledby": headingId },
    h(
      "div",
      { class: "riddle-head" },
      heading,
      h(
        "div",
        { class: "controls" },
        structureButton(t("editor.move_up"), t("editor.round.move_up", { n }), () => (move(pack.rounds, i, -1), `rounds[${i - 1}]`), { disabled: i === 0 }),
        structureButton(t("editor.move_down"), t("editor.round.move_down", { n }), () => (move(pack.rounds, i, 1), `rounds[${i + 1}]`), { disabled: i === count - 1 }),
        structureButton(t("editor.remove"), t("editor.round.remove", { n }), () => (pack.rounds.splice(i, 1), pack.rounds.length ? `rounds[${Math.max(0, i - 1)}]` : "title"), { danger: true }),
      ),
    ),
    listProblem(base, heading),
    textField(`${base}.title`, t("editor.field.round_title"), { required: true }),
    story ? storyFields(round, base, n) : riddleList(round, base, heading, n),
  );
}

/**
 * @param {Obj} round
 * @param {string} base
 * @param {HTMLElement} heading
 * @param {number} n the round's number
 */
function riddleList(round, base, heading, n) {
  const riddles = Array.isArray(round.riddles) ? round.riddles : [];
  const add = structureButton(t("editor.riddle.add"), t("editor.riddle.add_to", { n }), () => {
    if (!Array.isArray(round.riddles)) round.riddles = [];
    round.riddles.push(blankRiddle());
    return `${base}.riddles[${round.riddles.length - 1}].text`;
  });
  return [
    h("ol", { class: "editor-riddles" }, riddles.map((riddle, j) => h("li", {}, riddleBlock(round, riddle, base, j, riddles.length)))),
    listProblem(`${base}.riddles`, heading),
    h("div", {}, add),
  ];
}

/**
 * @param {Obj} round
 * @param {Obj} riddle
 * @param {string} base the round's path
 * @param {number} j
 * @param {number} count
 */
function riddleBlock(round, riddle, base, j, count) {
  const path = `${base}.riddles[${j}]`;
  const n = j + 1;
  const headingId = fieldId(path) + "-heading";
  const heading = h("h4", { id: headingId, tabindex: -1, "data-block": path }, t("editor.riddle.title", { n }));
  const near = Array.isArray(riddle.near) ? riddle.near : [];
  const hints = Array.isArray(riddle.hints) ? riddle.hints : [];
  const addNear = structureButton(t("editor.near.add"), t("editor.near.add_to", { n }), () => {
    riddle.near = [...near, { answers: [], nudge: "" }];
    return `${path}.near[${near.length}].answers`;
  });
  const addHint = structureButton(t("editor.hint.add"), t("editor.hint.add_to", { n }), () => {
    riddle.hints = [...hints, { text: "", after: 0, cost: 0 }];
    return `${path}.hints[${hints.length}].text`;
  });
  const previewBox = h("div", { class: "editor-preview", dataset: { preview: path } });
  const previewOpen = previews.has(path);
  const previewButton = h("button", { type: "button", class: "btn btn-small", "aria-expanded": String(previewOpen) }, t("editor.preview.show"));
  previewButton.addEventListener("click", () => {
    const open = !previews.has(path);
    if (open) previews.add(path);
    else previews.delete(path);
    previewButton.setAttribute("aria-expanded", String(open));
    updatePreview(previewBox, path);
  });
  updatePreview(previewBox, path);
  return h(
    "article",
    { class: "editor-riddle stack", "aria-labelledby": headingId },
    h(
      "div",
      { class: "riddle-head" },
      heading,
      h(
        "div",
        { class: "controls" },
        structureButton(t("editor.move_up"), t("editor.riddle.move_up", { n }), () => (move(round.riddles, j, -1), `${base}.riddles[${j - 1}].text`), { disabled: j === 0 }),
        structureButton(t("editor.move_down"), t("editor.riddle.move_down", { n }), () => (move(round.riddles, j, 1), `${base}.riddles[${j + 1}].text`), { disabled: j === count - 1 }),
        structureButton(t("editor.remove"), t("editor.riddle.remove", { n }), () => (round.riddles.splice(j, 1), round.riddles.length ? `${base}.riddles[${Math.max(0, j - 1)}].text` : `${base}.title`), { danger: true }),
      ),
    ),
    listProblem(path, heading),
    textField(`${path}.text`, t("editor.field.text"), { required: true, multiline: true }),
    linesField(`${path}.answers`, t("editor.field.answers"), { required: true, help: t("editor.help.answers") }),
    linesField(`${path}.options`, t("editor.field.options"), { help: t("editor.help.options") }),
    h(
      "fieldset",
      { class: "editor-group" },
      h("legend", {}, t("editor.near.title")),
      h("p", { class: "field-help" }, t("editor.help.near")),
      near.map((item, k) =>
        h(
          "div",
          { class: "editor-item" },
          linesField(`${path}.near[${k}].answers`, t("editor.near.answers", { n: k + 1 })),
          textField(`${path}.near[${k}].nudge`, t("editor.near.nudge", { n: k + 1 }), { required: true }),
          structureButton(t("editor.remove"), t("editor.near.remove", { n: k + 1 }), () => {
            near.splice(k, 1);
            if (!near.length) delete riddle.near;
            return `${path}.answers`;
          }, { danger: true }),
          listProblem(`${path}.near[${k}]`, addNear),
        ),
      ),
      listProblem(`${path}.near`, addNear),
      addNear,
    ),
    h(
      "fieldset",
      { class: "editor-group" },
      h("legend", {}, t("editor.hint.title")),
      h("p", { class: "field-help" }, t("editor.help.hints")),
      hints.map((item, k) =>
        h(
          "div",
          { class: "editor-item" },
          textField(`${path}.hints[${k}].text`, t("editor.hint.text", { n: k + 1 }), { required: true }),
          h(
            "div",
            { class: "editor-grid" },
            numberField(`${path}.hints[${k}].after`, t("editor.hint.after", { n: k + 1 }), { placeholder: 0 }),
            numberField(`${path}.hints[${k}].cost`, t("editor.hint.cost", { n: k + 1 }), { placeholder: 0 }),
          ),
          structureButton(t("editor.remove"), t("editor.hint.remove", { n: k + 1 }), () => {
            hints.splice(k, 1);
            if (!hints.length) delete riddle.hints;
            return `${path}.text`;
          }, { danger: true }),
          listProblem(`${path}.hints[${k}]`, addHint),
        ),
      ),
      listProblem(`${path}.hints`, addHint),
      addHint,
    ),
    h(
      "div",
      { class: "editor-grid" },
      numberField(`${path}.time_limit`, t("editor.field.time_limit"), { placeholder: defaultOf("time_limit", DEFAULT_TIME_LIMIT) }),
      numberField(`${path}.points`, t("editor.field.points"), { placeholder: defaultOf("points", DEFAULT_POINTS) }),
      typoField(`${path}.typo_tolerance`, t("editor.typo.default")),
      numbersField(`${path}.numbers`, t("editor.numbers.default")),
    ),
    textField(`${path}.explanation`, t("editor.field.explanation"), { multiline: true }),
    tryBox(path, n),
    h("div", {}, previewButton),
    previewBox,
  );
}

/**
 * @param {string} key
 * @param {number} fallback
 */
function defaultOf(key, fallback) {
  const value = pack.defaults ? pack.defaults[key] : undefined;
  return typeof value === "number" ? value : fallback;
}

/**
 * The "try an answer" box of a riddle.
 * @param {string} path
 * @param {number} n
 */
function tryBox(path, n) {
  const id = `${fieldId(path)}-try`;
  const input = h("input", { id, type: "text", maxlength: 200, autocomplete: "off", spellcheck: "false" });
  if (pack.language) input.lang = String(pack.language);
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
    tryAnswer(path, input, out);
  });
  return form;
}

/**
 * @param {string} path
 * @param {HTMLInputElement} input
 * @param {HTMLElement} out
 */
async function tryAnswer(path, input, out) {
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
  const body = { language: pack.language, defaults: pack.defaults || null, riddle: getAt(path), guess: input.value };
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
    const err = data.error || { code: `http_${response.status}`, message: response.statusText };
    if (err.code === "invalid_pack" && Array.isArray(err.problems) && err.problems.length) {
      const first = /** @type {Problem} */ (err.problems[0]);
      say("info", t("editor.try.fix_first", { problem: first.field ? `${first.field}: ${first.message}` : first.message }));
    } else {
      say("wrong", errorText(err));
    }
  } catch (e) {
    say("wrong", t("common.error", { message: String(/** @type {Error} */ (e).message || e) }));
  }
}

/**
 * @param {HTMLElement} box
 * @param {string} path a riddle's
 */
function updatePreview(box, path) {
  if (!previews.has(path)) {
    box.replaceChildren();
    return;
  }
  const riddle = getAt(path) || {};
  const roundPath = path.replace(/\.riddles\[\d+\]$/, "");
  const round = getAt(roundPath) || {};
  const riddles = Array.isArray(round.riddles) ? round.riddles : [];
  const index = Number((path.match(/\[(\d+)\]$/) || ["", "0"])[1]);
  const own = (/** @type {string} */ key, /** @type {number} */ fallback) => (typeof riddle[key] === "number" ? riddle[key] : defaultOf(key, fallback));
  fill(
    box,
    riddlePreview({
      roundTitle: String(round.title || ""),
      n: index + 1,
      count: riddles.length,
      text: String(riddle.text || ""),
      options: Array.isArray(riddle.options) ? riddle.options.map(String) : [],
      timeLimit: own("time_limit", DEFAULT_TIME_LIMIT),
      points: own("points", DEFAULT_POINTS),
      hints: (Array.isArray(riddle.hints) ? riddle.hints : []).map((/** @type {Obj} */ hint) => ({
        after: typeof hint.after === "number" ? hint.after : 0,
        cost: typeof hint.cost === "number" ? hint.cost : 0,
      })),
      language: String(pack.language || ""),
    }),
  );
}

function updatePreviews() {
  for (const box of document.querySelectorAll("[data-preview]")) {
    if (box instanceof HTMLElement) updatePreview(box, box.dataset.preview || "");
  }
}

/**
 * @param {Obj} round
 * @param {string} base
 * @param {number} n the round's number
 */
function storyFields(round, base, n) {
  const prompts = Array.isArray(round.prompts) ? round.prompts : [];
  const add = structureButton(t("editor.prompt.add"), t("editor.prompt.add_to", { n }), () => {
    if (!Array.isArray(round.prompts)) round.prompts = [];
    round.prompts.push({ opening: "" });
    return `${base}.prompts[${round.prompts.length - 1}].opening`;
  });
  return [
    h(
      "div",
      { class: "editor-grid" },
      selectField(
        `${base}.visibility`,
        t("editor.field.visibility"),
        [
          ["full", t("editor.visibility.full")],
          ["chain", t("editor.visibility.chain")],
        ],
        (v) => v,
      ),
      numberField(`${base}.turns_per_player`, t("editor.field.turns_per_player"), { placeholder: 2, help: t("editor.help.turns") }),
      numberField(`${base}.seconds_per_turn`, t("editor.field.seconds_per_turn"), { placeholder: 60, help: t("editor.help.seconds_per_turn") }),
      numberField(`${base}.max_chars`, t("editor.field.max_chars"), { placeholder: 160, help: t("editor.help.max_chars") }),
      numberField(`${base}.vote_seconds`, t("editor.field.vote_seconds"), { placeholder: 0, help: t("editor.help.vote_seconds") }),
    ),
    h(
      "fieldset",
      { class: "editor-group" },
      h("legend", {}, t("editor.prompt.title")),
      h("p", { class: "field-help" }, t("editor.help.prompts")),
      h(
        "ol",
        { class: "editor-riddles" },
        prompts.map((prompt, k) =>
          h(
            "li",
            { class: "editor-item" },
            textField(`${base}.prompts[${k}].opening`, t("editor.prompt.opening", { n: k + 1 }), { required: true, multiline: true }),
            linesField(`${base}.prompts[${k}].must_include`, t("editor.prompt.must_include", { n: k + 1 }), { help: t("editor.help.must_include") }),
            textField(`${base}.prompts[${k}].theme`, t("editor.prompt.theme", { n: k + 1 })),
            structureButton(t("editor.remove"), t("editor.prompt.remove", { n: k + 1 }), () => (prompts.splice(k, 1), `${base}.title`), { danger: true }),
            listProblem(`${base}.prompts[${k}]`, add),
          ),
        ),
      ),
      listProblem(`${base}.prompts`, add),
      add,
    ),
  ];
}

function render() {
  controls.clear();
  fill(byId("pack-fields"), packFields());
  const rounds = Array.isArray(pack.rounds) ? pack.rounds : [];
  fill(
    byId("rounds"),
    rounds.map((round, i) => roundSection(round, i, rounds.length)),
    listProblem("rounds", byId("btn-add-riddles")),
  );
  renderCheck();
}

// ---- checking as one types --------------------------------------------------------------------

function changed() {
  dirty = true;
  keepDraft();
  window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(check, CHECK_DELAY_MS);
  updatePreviews();
}

/** Keep the pack in this browser, and whether it was saved somewhere since its last change. */
function keepDraft() {
  store.set(DRAFT_KEY, { pack, saved: !dirty });
}

/** Ask the server's validator about the pack as it is now (the latest answer wins). */
async function check() {
  window.clearTimeout(checkTimer);
  const mine = ++checkSeq;
  try {
    const response = await fetch("/api/packs/validate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(pack) });
    const body = await response.json().catch(() => ({}));
    if (mine !== checkSeq) return;
    if (!response.ok) {
      checkState = "failed";
      checkMessage = errorText(body.error || { code: `http_${response.status}`, message: response.statusText });
      // Too many checks at once: try again a little later.
      if (response.status === 429 || response.status === 503) checkTimer = window.setTimeout(check, 5000);
    } else if (body.valid) {
      checkState = "valid";
      problems = [];
      summary = body.pack;
    } else {
      checkState = "invalid";
      problems = Array.isArray(body.problems) ? body.problems : [];
    }
  } catch (err) {
    if (mine !== checkSeq) return;
    checkState = "failed";
    checkMessage = t("common.error", { message: String(/** @type {Error} */ (err).message || err) });
  }
  renderCheck();
}

/**
 * The registered path a problem's field belongs to: the field itself, or the
 * nearest list or block holding it ("answers[1]" -> "answers").
 * @param {string} path
 */
function ownerOf(path) {
  let at = path;
  while (at) {
    if (controls.has(at)) return at;
    const cut = Math.max(at.lastIndexOf("."), at.lastIndexOf("["));
    at = cut > 0 ? at.slice(0, cut) : "";
  }
  return null;
}

/** Every problem next to its field, and the list of them all with a way to each. */
function renderCheck() {
  /** @type {Map<string, string[]>} */
  const byOwner = new Map();
  for (const problem of problems) {
    const owner = ownerOf(problem.field);
    if (owner) byOwner.set(owner, [...(byOwner.get(owner) || []), problem.message]);
  }
  for (const [path, { control, error }] of controls) {
    const messages = byOwner.get(path);
    error.textContent = messages ? messages.join(" · ") : "";
    error.hidden = !messages;
    if (control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement || control instanceof HTMLSelectElement) {
      if (messages) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }
  const status = byId("check-status");
  if (checkState === "valid") {
    status.className = "verdict-flash correct";
    const riddles = summary && Array.isArray(summary.rounds) ? summary.rounds.filter((/** @type {Obj} */ r) => r.kind === "riddles").reduce((/** @type {number} */ s, /** @type {Obj} */ r) => s + r.items, 0) : 0;
    status.textContent = `✓ ${t("editor.check.valid", { n: riddles })}`;
  } else if (checkState === "invalid") {
    status.className = "verdict-flash wrong";
    status.textContent = t("editor.check.problems", { n: problems.length });
  } else if (checkState === "failed") {
    status.className = "verdict-flash wrong";
    status.textContent = checkMessage;
  } else {
    status.className = "verdict-flash info";
    status.textContent = t("editor.check.checking");
  }
  fill(
    byId("check-problems"),
    problems.map((problem) => {
      const owner = ownerOf(problem.field);
      const text = problem.field ? `${problem.field}: ${problem.message}` : problem.message;
      return h("li", {}, owner ? h("button", { type: "button", class: "link-button", onclick: () => focusField(owner) }, text) : text);
    }),
  );
}

// ---- opening a pack ---------------------------------------------------------------------------

/**
 * @param {string} text
 * @param {boolean} [bad]
 */
function openResult(text, bad = false) {
  fill(byId("open-result"), text ? h("p", { class: bad ? "form-error" : "muted" }, text) : null);
}

/**
 * Fetch a pack's fields and edit them (after asking, when the current pack was changed).
 * @param {() => Promise<Response>} request
 */
async function open(request) {
  if (dirty && !(await askConfirm(t("editor.open.replace"), t("editor.open.replace_ok")))) return;
  openResult(t("common.loading"));
  try {
    const response = await request();
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      /** @type {WireError} */
      const err = body.error || { code: `http_${response.status}`, message: response.statusText };
      const list = Array.isArray(err.problems) ? err.problems.map(fileProblemText) : [];
      fill(byId("open-result"), h("p", { class: "form-error" }, errorText(err)), list.length ? h("ul", { class: "problems" }, list.map((text) => h("li", {}, text))) : null);
      return;
    }
    load(body.pack);
    openResult(t("editor.open.opened", { title: pack.title || pack.id }));
    byId("pack-heading").focus();
  } catch (err) {
    openResult(t("common.error", { message: String(/** @type {Error} */ (err).message || err) }), true);
  }
}

/**
 * A problem of an opened file, at its line (or a spreadsheet's cell), as the console shows it.
 * @param {{file: string, line?: number | null, cell?: string, field: string, message: string}} p
 */
function fileProblemText(p) {
  const where = p.cell ? `${p.file}:${p.cell}` : p.line === null || p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** @param {Obj} data */
function load(data) {
  pack = data;
  dirty = false;
  keepDraft();
  problems = [];
  checkState = "checking";
  previews.clear();
  render();
  check();
}

async function loadLibrary() {
  /** @type {PackSummary[]} */
  let packs = [];
  try {
    const response = await fetch("/api/packs");
    packs = (await response.json()).packs || [];
  } catch {
    /* the list stays empty */
  }
  const select = byId("library-select", HTMLSelectElement);
  fill(select, packs.map((p) => h("option", { value: p.id, lang: p.language }, `${p.title} (${p.language.toUpperCase()})`)));
  byId("btn-open-library", HTMLButtonElement).disabled = packs.length === 0;
}

// ---- saving -----------------------------------------------------------------------------------

/** @param {...import("./dom.js").Child} children */
function saveResult(...children) {
  fill(byId("save-result"), ...children);
}

function fileName() {
  const id = typeof pack.id === "string" && /^[a-z0-9-]{1,64}$/.test(pack.id) ? pack.id : "pack";
  return `${id}.yaml`;
}

/**
 * Upload the pack as YAML to a room (the console's upload endpoint).
 * @param {string} code
 * @param {string} token
 * @returns {Promise<boolean>}
 */
async function uploadTo(code, token) {
  const response = await fetch(`/api/rooms/${encodeURIComponent(code)}/pack?filename=${encodeURIComponent(fileName())}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/yaml" },
    body: toYaml(pack),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) return true;
  /** @type {WireError} */
  const err = body.error || { code: `http_${response.status}`, message: response.statusText };
  if (err.code === "invalid_pack" && Array.isArray(err.problems)) {
    problems = err.problems.map((p) => ({ field: p.field, message: p.message }));
    checkState = "invalid";
    renderCheck();
    saveResult(h("p", { class: "form-error" }, t("editor.save.refused")));
  } else {
    saveResult(h("p", { class: "form-error" }, errorText(err)));
  }
  return false;
}

/** @returns {string | null} */
function roomToken() {
  if (!roomCode) return null;
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromHash = hash.get("token");
  if (fromHash) {
    store.set(hostKey(roomCode), fromHash);
    history.replaceState(null, "", location.pathname + location.search);
    return fromHash;
  }
  return store.get(hostKey(roomCode));
}

async function saveToRoom() {
  const token = roomToken();
  if (!token) return;
  saveResult(h("p", { class: "muted" }, t("common.loading")));
  try {
    if (await uploadTo(roomCode, token)) {
      dirty = false;
      keepDraft();
      saveResult(
        h("p", { class: "verdict-flash correct" }, `✓ ${t("editor.save.saved", { code: roomCode })}`),
        h("a", { class: "btn btn-small", href: `/host/${encodeURIComponent(roomCode)}` }, t("editor.save.back_to_console")),
      );
    }
  } catch (err) {
    saveResult(h("p", { class: "form-error" }, t("common.error", { message: String(/** @type {Error} */ (err).message || err) })));
  }
}

async function startRoom() {
  const button = byId("btn-start-room", HTMLButtonElement);
  button.disabled = true;
  saveResult(h("p", { class: "muted" }, t("common.loading")));
  try {
    const name = String(pack.title || "").trim().slice(0, 80) || t("editor.save.room_name");
    const response = await fetch("/api/rooms", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
    const room = await response.json().catch(() => ({}));
    if (!response.ok) {
      saveResult(h("p", { class: "form-error" }, errorText(room.error || { code: `http_${response.status}`, message: response.statusText })));
      return;
    }
    store.set(hostKey(room.code), room.host_token);
    rememberHostedRoom(room.code, name);
    if (await uploadTo(room.code, room.host_token)) {
      dirty = false;
      keepDraft();
      location.assign(`/host/${encodeURIComponent(room.code)}`);
    }
  } catch (err) {
    saveResult(h("p", { class: "form-error" }, t("common.error", { message: String(/** @type {Error} */ (err).message || err) })));
  } finally {
    button.disabled = false;
  }
}

function renderRoomParts() {
  const token = roomToken();
  const withRoom = Boolean(roomCode && token);
  show(byId("room-open"), withRoom);
  show(byId("btn-save-room"), withRoom);
  if (withRoom) {
    byId("room-open-label").textContent = t("editor.open.room_label", { code: roomCode });
    byId("btn-save-room").textContent = t("editor.save.room", { code: roomCode });
  }
}

function main() {
  initI18n();
  byId("btn-new").addEventListener("click", async () => {
    if (dirty && !(await askConfirm(t("editor.open.replace"), t("editor.open.replace_ok")))) return;
    load(blankPack());
    openResult("");
    focusField("title");
  });
  byId("btn-open-library").addEventListener("click", () => {
    const id = byId("library-select", HTMLSelectElement).value;
    if (id) open(() => fetch(`/api/packs/${encodeURIComponent(id)}/source`));
  });
  byId("file-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId("file-input", HTMLInputElement);
    const file = input.files ? input.files[0] : undefined;
    if (!file) {
      input.focus();
      return;
    }
    open(() => fetch(`/api/packs/source?filename=${encodeURIComponent(file.name)}`, { method: "POST", body: file }));
  });
  byId("btn-open-room").addEventListener("click", () => {
    const token = roomToken();
    if (token) open(() => fetch(`/api/rooms/${encodeURIComponent(roomCode)}/pack`, { headers: { Authorization: `Bearer ${token}` } }));
  });
  byId("btn-add-riddles").addEventListener("click", () =>
    restructure(() => {
      if (!Array.isArray(pack.rounds)) pack.rounds = [];
      pack.rounds.push({ kind: "riddles", title: "", riddles: [blankRiddle()] });
      return `rounds[${pack.rounds.length - 1}].title`;
    }),
  );
  byId("btn-add-story").addEventListener("click", () =>
    restructure(() => {
      if (!Array.isArray(pack.rounds)) pack.rounds = [];
      pack.rounds.push(blankStoryRound());
      return `rounds[${pack.rounds.length - 1}].title`;
    }),
  );
  byId("btn-download").addEventListener("click", () => {
    downloadBlob(new Blob([toYaml(pack)], { type: "application/yaml" }), fileName());
    dirty = false;
    keepDraft();
    announce(t("editor.save.downloaded", { name: fileName() }));
  });
  byId("btn-save-room").addEventListener("click", saveToRoom);
  byId("btn-start-room").addEventListener("click", startRoom);
  document.addEventListener("langchange", () => {
    render();
    renderRoomParts();
  });
  renderRoomParts();
  /** @type {{pack: Obj, saved: boolean} | null} */
  const draft = store.get(DRAFT_KEY);
  if (draft && draft.pack && typeof draft.pack === "object" && !Array.isArray(draft.pack)) {
    pack = draft.pack;
    dirty = !draft.saved;
    openResult(t("editor.open.draft"));
  }
  render();
  check();
  loadLibrary();
}

main();
