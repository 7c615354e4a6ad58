// Landing page: join with a code, or create a room as a facilitator.

import { h, byId, fill, show } from "./dom.js";
import { LANGS, initI18n, lang, t } from "./i18n.js";
import { CODE_RE, fetchRoom, hostKey, hostedRooms, normalizeCode, refusalOf, rememberHostedRoom, store } from "./common.js";

/** @import { PackSummary } from "./types.js" */

/** @type {PackSummary[]} */
let packs = [];
let packsError = false;
/** Whether the facilitator chose a pack (until then the choice follows the UI language). */
let packChosen = false;
/** The room name this page filled in (replaced on a language switch unless edited). */
let defaultName = "";

/** The value of the checked pack choice ("" for "no pack"), undefined when none is checked. */
function pickedPack() {
  const picked = byId("pack-list").querySelector("input:checked");
  return picked instanceof HTMLInputElement ? picked.value : undefined;
}

/** The packs the language and kind filters let through, in the library's order, templates last. */
function visiblePacks() {
  const language = byId("pack-language", HTMLSelectElement).value;
  const kind = byId("pack-kind", HTMLSelectElement).value;
  return packs
    .filter((p) => (!language || p.language === language) && (!kind || p.kinds.includes(kind)))
    .sort((a, b) => Number(a.template) - Number(b.template));
}

/**
 * The pack to offer first: the first one in the UI's language, else the first one;
 * a template (its blanks not filled in) only when nothing else is left.
 * @param {PackSummary[]} among
 */
function defaultPack(among) {
  const ready = among.filter((p) => !p.template);
  const pack = ready.find((p) => p.language === lang) || ready[0] || among[0];
  return pack ? pack.id : "";
}

/** "Team games · Friday, May 14", in the UI's language. */
function roomNameToday() {
  const day = new Date().toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long" });
  return t("index.host.default_name", { day });
}

/** Fill in the room name, unless the facilitator typed one. */
function renderDefaultName() {
  const input = byId("room-name", HTMLInputElement);
  if (input.value !== defaultName) return;
  defaultName = roomNameToday();
  input.value = defaultName;
}

/** The language filter offers the languages the library has, named in the UI's language. */
function renderLanguageFilter() {
  const select = byId("pack-language", HTMLSelectElement);
  const current = select.value;
  const codes = [...new Set(packs.map((p) => p.language))].sort();
  const options = codes.map((code) =>
    h("option", { value: code }, code in LANGS ? t(`index.filter.lang.${code}`) : code.toUpperCase()),
  );
  fill(select, [h("option", { value: "" }, t("index.filter.all_languages")), ...options]);
  select.value = codes.includes(current) ? current : "";
}

/** @param {PackSummary} pack */
function packFacts(pack) {
  const riddles = pack.riddles ? t("index.host.riddle_count", { n: pack.riddles }) : t("index.host.stories_only");
  return t("index.host.facts", { riddles, minutes: pack.minutes });
}

function renderPacks() {
  const list = byId("pack-list");
  const visible = visiblePacks();
  // A pack hidden by the filters cannot stay chosen: the first one shown replaces it.
  let chosen = packChosen ? pickedPack() : undefined;
  if (chosen === undefined || (chosen !== "" && !visible.some((p) => p.id === chosen))) chosen = defaultPack(visible);
  const items = visible.map((pack) =>
    h(
      "li",
      {},
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "pack", value: pack.id, checked: pack.id === chosen }),
        h(
          "span",
          {},
          h(
            "span",
            { class: "choice-title" },
            pack.title,
            " ",
            h("span", { class: "pill", lang: pack.language }, pack.language.toUpperCase()),
            pack.template ? [" ", h("span", { class: "pill pill-template" }, t("index.host.template"))] : null,
          ),
          h("span", { class: "choice-meta choice-facts" }, packFacts(pack)),
          pack.template ? h("span", { class: "choice-meta" }, t("index.host.template_help")) : null,
          h(
            "span",
            { class: "choice-meta" },
            t("index.host.rounds", { n: pack.rounds.length }),
            ": ",
            pack.rounds.map((r) => `${r.title} (${t(`index.host.items.${r.kind}`, { n: r.items })})`).join(" · "),
          ),
          pack.description ? h("span", { class: "choice-meta clamp", lang: pack.language, title: pack.description }, pack.description) : null,
        ),
      ),
    ),
  );
  if (packs.length > 0 && visible.length === 0) items.push(h("li", { class: "choice-empty" }, t("index.filter.none")));
  items.push(
    h(
      "li",
      {},
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "pack", value: "", checked: chosen === "" }),
        h("span", { class: "choice-title" }, t("index.host.no_pack")),
      ),
    ),
  );
  fill(list, items);
  if (packsError) list.prepend(h("li", { class: "form-error" }, t("common.error", { message: "packs" })));
  const filtered = visible.length !== packs.length;
  byId("pack-count").textContent = filtered
    ? t("index.filter.count", { n: visible.length, total: packs.length })
    : t("index.filter.count_all", { n: packs.length });
}

function renderRecent() {
  const rooms = hostedRooms();
  const live = rooms.filter((r) => store.get(hostKey(r.code)));
  show(byId("recent"), live.length > 0);
  fill(
    byId("recent-list"),
    live.map((r) =>
      h(
        "li",
        {},
        h(
          "a",
          { class: "choice", href: `/host/${encodeURIComponent(r.code)}` },
          h("span", {}, h("span", { class: "choice-title" }, r.name || r.code), h("span", { class: "choice-meta" }, `${r.code} · ${t("index.host.open_console")}`)),
        ),
      ),
    ),
  );
}

async function loadPacks() {
  try {
    const response = await fetch("/api/packs");
    const body = await response.json();
    packs = body.packs || [];
  } catch {
    packsError = true;
  }
  renderLanguageFilter();
  renderPacks();
}

/**
 * @param {string} id
 * @param {string} text
 */
function showError(id, text) {
  const el = byId(id);
  el.textContent = text || "";
  show(el, !!text);
}

/** @param {SubmitEvent} event */
async function onJoin(event) {
  event.preventDefault();
  const input = byId("join-code", HTMLInputElement);
  const code = normalizeCode(input.value);
  if (!CODE_RE.test(code)) {
    showError("join-error", t("index.join.bad_code"));
    input.focus();
    return;
  }
  showError("join-error", "");
  try {
    const room = await fetchRoom(code);
    if (!room) {
      showError("join-error", t("index.join.not_found", { code }));
      return;
    }
  } catch {
    /* the player page will tell */
  }
  location.assign(`/r/${encodeURIComponent(code)}`);
}

/** @param {SubmitEvent} event */
async function onCreate(event) {
  event.preventDefault();
  const input = byId("room-name", HTMLInputElement);
  const name = input.value.trim();
  if (!name) {
    showError("host-error", t("index.host.name_required"));
    input.focus();
    return;
  }
  showError("host-error", "");
  const picked = pickedPack();
  /** @type {{name: string, pack?: string}} */
  const body = { name };
  if (picked) body.pack = picked;
  const button = byId("create-button", HTMLButtonElement);
  button.disabled = true;
  button.textContent = t("index.host.creating");
  try {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const err = refusalOf(data, response);
      showError("host-error", t("common.error", { message: err.message || err.code }));
      return;
    }
    store.set(hostKey(data.code), data.host_token);
    rememberHostedRoom(data.code, name);
    location.assign(`/host/${encodeURIComponent(data.code)}`);
  } catch (err) {
    showError("host-error", t("common.error", { message: String(/** @type {Error} */ (err).message || err) }));
  } finally {
    button.disabled = false;
    button.textContent = t("index.host.create");
  }
}

function main() {
  initI18n();
  byId("join-form").addEventListener("submit", onJoin);
  byId("host-form").addEventListener("submit", onCreate);
  const joinCode = byId("join-code", HTMLInputElement);
  joinCode.addEventListener("input", () => {
    const el = joinCode;
    const clean = el.value.toUpperCase();
    if (clean !== el.value) el.value = clean;
  });
  byId("pack-list").addEventListener("change", () => {
    packChosen = true;
  });
  for (const id of ["pack-language", "pack-kind"]) byId(id).addEventListener("change", renderPacks);
  document.addEventListener("langchange", () => {
    renderDefaultName();
    renderLanguageFilter();
    renderPacks();
    renderRecent();
  });
  renderDefaultName();
  renderRecent();
  loadPacks();
}

main();
