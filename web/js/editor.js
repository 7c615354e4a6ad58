// The pack editor (/editor, /editor?room=CODE): write a pack in a form, checked
// by the server's own validator as one types, try answers with the game's
// matcher, preview a riddle, then download it as YAML, save it to a room or
// start a room with it. The pack is held as the fields of its file
// (docs/packs.md), so a problem's field path ("rounds[0].riddles[2].answers")
// names the input it belongs next to.

import { h, byId, fill, show, downloadBlob } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { announce, askConfirm, errorText, hostKey, normalizeCode, refusalOf, rememberHostedRoom, store } from "./common.js";
import { toYaml } from "./editor/yaml.js";
import { blankPack, blankRiddle, blankStoryRound, blankWhosWhoRound, controls, editing, focusField, previews, renderForm, restructure, updatePreviews } from "./editor/form.js";

/** @import { PackSummary, WireError } from "./types.js" */
/** @typedef {{[key: string]: any}} Obj */
/** @typedef {{field: string, message: string}} Problem */

const CHECK_DELAY_MS = 500;
// The pack being written is kept in this browser, so a reload or a closed tab loses nothing.
const DRAFT_KEY = "ritrovo.editor.draft";

const roomCode = normalizeCode(new URLSearchParams(location.search).get("room") || "");

let dirty = false;
/** @type {Problem[]} the validator's last answer */
let problems = [];
/** @type {"checking" | "valid" | "invalid" | "failed"} */
let checkState = "checking";
let checkMessage = "";
/** @type {Obj | null} the valid pack's summary */
let summary = null;
let checkTimer = 0;
let checkSeq = 0;

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
  store.set(DRAFT_KEY, { pack: editing.pack, saved: !dirty });
}

/** Ask the server's validator about the pack as it is now (the latest answer wins). */
async function check() {
  window.clearTimeout(checkTimer);
  const mine = ++checkSeq;
  try {
    const response = await fetch("/api/packs/validate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(editing.pack) });
    const body = await response.json().catch(() => ({}));
    if (mine !== checkSeq) return;
    if (!response.ok) {
      checkState = "failed";
      checkMessage = errorText(refusalOf(body, response));
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
      const err = refusalOf(body, response);
      const list = Array.isArray(err.problems) ? err.problems.map(fileProblemText) : [];
      fill(byId("open-result"), h("p", { class: "form-error" }, errorText(err)), list.length ? h("ul", { class: "problems" }, list.map((text) => h("li", {}, text))) : null);
      return;
    }
    load(body.pack);
    openResult(t("editor.open.opened", { title: editing.pack.title || editing.pack.id }));
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
  editing.pack = data;
  dirty = false;
  keepDraft();
  problems = [];
  checkState = "checking";
  previews.clear();
  renderForm();
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
  const id = typeof editing.pack.id === "string" && /^[a-z0-9-]{1,64}$/.test(editing.pack.id) ? editing.pack.id : "pack";
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
    body: toYaml(editing.pack),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) return true;
  /** @type {WireError} */
  const err = refusalOf(body, response);
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
    const name = String(editing.pack.title || "").trim().slice(0, 80) || t("editor.save.room_name");
    const response = await fetch("/api/rooms", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
    const room = await response.json().catch(() => ({}));
    if (!response.ok) {
      saveResult(h("p", { class: "form-error" }, errorText(refusalOf(room, response))));
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
  editing.pack = blankPack();
  editing.changed = changed;
  editing.rendered = renderCheck;
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
      if (!Array.isArray(editing.pack.rounds)) editing.pack.rounds = [];
      editing.pack.rounds.push({ kind: "riddles", title: "", riddles: [blankRiddle()] });
      return `rounds[${editing.pack.rounds.length - 1}].title`;
    }),
  );
  byId("btn-add-whoswho").addEventListener("click", () =>
    restructure(() => {
      if (!Array.isArray(editing.pack.rounds)) editing.pack.rounds = [];
      editing.pack.rounds.push(blankWhosWhoRound());
      return `rounds[${editing.pack.rounds.length - 1}].title`;
    }),
  );
  byId("btn-add-story").addEventListener("click", () =>
    restructure(() => {
      if (!Array.isArray(editing.pack.rounds)) editing.pack.rounds = [];
      editing.pack.rounds.push(blankStoryRound());
      return `rounds[${editing.pack.rounds.length - 1}].title`;
    }),
  );
  byId("btn-download").addEventListener("click", () => {
    downloadBlob(new Blob([toYaml(editing.pack)], { type: "application/yaml" }), fileName());
    dirty = false;
    keepDraft();
    announce(t("editor.save.downloaded", { name: fileName() }));
  });
  byId("btn-save-room").addEventListener("click", saveToRoom);
  byId("btn-start-room").addEventListener("click", startRoom);
  document.addEventListener("langchange", () => {
    renderForm();
    renderRoomParts();
  });
  renderRoomParts();
  /** @type {{pack: Obj, saved: boolean} | null} */
  const draft = store.get(DRAFT_KEY);
  if (draft && draft.pack && typeof draft.pack === "object" && !Array.isArray(draft.pack)) {
    editing.pack = draft.pack;
    dirty = !draft.saved;
    openResult(t("editor.open.draft"));
  }
  renderForm();
  check();
  loadLibrary();
}

main();
