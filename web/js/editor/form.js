// The pack editor's form: one labelled control per field of the pack file
// (docs/packs.md), each registered in `controls` under its field path
// ("rounds[0].riddles[2].answers") with the element its problems go in.
// What is typed is written into `editing.pack` at once; editor.js owns the
// checks, opening and saving, and is told through `editing.changed`.

import { h, byId, fill } from "../dom.js";
import { lang, t } from "../i18n.js";
import { riddlePreview } from "./preview.js";
import { tryBox } from "./try.js";

/** @typedef {{[key: string]: any}} Obj */

const DEFAULT_TIME_LIMIT = 60;
const DEFAULT_POINTS = 100;

/**
 * The pack being edited (its file's fields), and what the page does after a
 * change and after the form is drawn again (editor.js sets both).
 * @type {{pack: Obj, changed: () => void, rendered: () => void}}
 */
export const editing = { pack: {}, changed: () => {}, rendered: () => {} };
/** @type {Map<string, {control: HTMLElement, error: HTMLElement}>} every input (and list) by its field path */
export const controls = new Map();
/** @type {Set<string>} riddles whose preview is open, by path */
export const previews = new Set();

/** @returns {Obj} */
export function blankRiddle() {
  return { text: "", answers: [] };
}

/** @returns {Obj} */
export function blankPack() {
  return { id: "my-pack", title: "", language: lang, rounds: [{ kind: "riddles", title: "", riddles: [blankRiddle()] }] };
}

/** @returns {Obj} */
export function blankWhosWhoRound() {
  return { kind: "whoswho", title: "", prompts: [] };
}

export function blankStoryRound() {
  return { kind: "story", title: "", prompts: [{ opening: "" }], turns_per_player: 2, seconds_per_turn: 60, max_chars: 160, visibility: "full", vote_seconds: 0 };
}

/** @param {string} path */
function keysOf(path) {
  return (path.match(/[^.[\]]+/g) || []).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** @param {string} path */
function getAt(path) {
  /** @type {any} */
  let node = editing.pack;
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
  let node = editing.pack;
  for (const key of keys) {
    if (node[key] === null || typeof node[key] !== "object") node[key] = {};
    node = node[key];
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
  if (editing.pack.defaults && Object.keys(editing.pack.defaults).length === 0) delete editing.pack.defaults;
}

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
  if (inPackLanguage && editing.pack.language) control.lang = String(editing.pack.language);
  control.addEventListener("input", () => {
    setAt(path, control.value === "" && !required ? undefined : control.value);
    editing.changed();
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
  if (editing.pack.language) control.lang = String(editing.pack.language);
  control.addEventListener("input", () => {
    const list = control.value
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    setAt(path, list.length || required ? list : undefined);
    editing.changed();
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
    editing.changed();
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
    editing.changed();
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
export function restructure(action) {
  const focusPath = action();
  previews.clear();
  renderForm();
  editing.changed();
  if (focusPath) focusField(focusPath);
}

/** @param {string} path */
export function focusField(path) {
  const entry = controls.get(path);
  const target = entry ? entry.control : document.querySelector(`[data-block="${CSS.escape(path)}"]`);
  if (target instanceof HTMLElement) target.focus();
}

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
  const whoswho = round.kind === "whoswho";
  const headingId = `round-${i}-heading`;
  const kindKey = story ? "editor.round.story" : whoswho ? "editor.round.whoswho" : "editor.round.riddles";
  const heading = h("h3", { id: headingId, tabindex: -1, "data-block": base }, t(kindKey, { n: i + 1 }));
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
        structureButton(t("editor.move_up"), t("editor.round.move_up", { n }), () => (move(editing.pack.rounds, i, -1), `rounds[${i - 1}]`), { disabled: i === 0 }),
        structureButton(t("editor.move_down"), t("editor.round.move_down", { n }), () => (move(editing.pack.rounds, i, 1), `rounds[${i + 1}]`), { disabled: i === count - 1 }),
        structureButton(t("editor.remove"), t("editor.round.remove", { n }), () => (editing.pack.rounds.splice(i, 1), editing.pack.rounds.length ? `rounds[${Math.max(0, i - 1)}]` : "title"), { danger: true }),
      ),
    ),
    listProblem(base, heading),
    textField(`${base}.title`, t("editor.field.round_title"), { required: true }),
    story ? storyFields(round, base, n) : whoswho ? whoswhoFields(base) : riddleList(round, base, heading, n),
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
    tryBox(`${fieldId(path)}-try`, n, String(editing.pack.language || ""), () => ({
      language: editing.pack.language,
      defaults: editing.pack.defaults || null,
      riddle: getAt(path),
    })),
    h("div", {}, previewButton),
    previewBox,
  );
}

/**
 * @param {string} key
 * @param {number} fallback
 */
function defaultOf(key, fallback) {
  const value = editing.pack.defaults ? editing.pack.defaults[key] : undefined;
  return typeof value === "number" ? value : fallback;
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
      language: String(editing.pack.language || ""),
    }),
  );
}

export function updatePreviews() {
  for (const box of document.querySelectorAll("[data-preview]")) {
    if (box instanceof HTMLElement) updatePreview(box, box.dataset.preview || "");
  }
}

/**
 * A "Who's who" round: its prompts, one per line, and its numbers.
 * @param {string} base the round's path
 */
function whoswhoFields(base) {
  return [
    linesField(`${base}.prompts`, t("editor.field.whoswho_prompts"), { required: true, help: t("editor.help.whoswho_prompts") }),
    h(
      "div",
      { class: "editor-grid" },
      numberField(`${base}.max_answers`, t("editor.field.max_answers"), { placeholder: 3, help: t("editor.help.max_answers") }),
      numberField(`${base}.questions`, t("editor.field.questions"), { placeholder: 10, help: t("editor.help.questions") }),
      numberField(`${base}.time_limit`, t("editor.field.time_limit"), { placeholder: 45 }),
      numberField(`${base}.points`, t("editor.field.points"), { placeholder: 100 }),
    ),
  ];
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

/** Draw the whole form again from `editing.pack` (then `editing.rendered` puts the problems back). */
export function renderForm() {
  controls.clear();
  fill(byId("pack-fields"), packFields());
  const rounds = Array.isArray(editing.pack.rounds) ? editing.pack.rounds : [];
  fill(
    byId("rounds"),
    rounds.map((round, i) => roundSection(round, i, rounds.length)),
    listProblem("rounds", byId("btn-add-riddles")),
  );
  editing.rendered();
}
