// Landing page: join with a code, or create a room as a facilitator.

import { h, byId, fill, show } from "./dom.js";
import { initI18n, t } from "./i18n.js";
import { CODE_RE, fetchRoom, hostKey, normalizeCode, rememberHostedRoom, store } from "./common.js";

let packs = [];
let packsError = false;

function renderPacks() {
  const list = byId("pack-list");
  const chosen = (list.querySelector("input:checked") || {}).value ?? (packs[0] ? packs[0].id : "");
  const items = packs.map((pack) =>
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
          h("span", { class: "choice-title" }, pack.title, " ", h("span", { class: "pill", lang: pack.language }, pack.language.toUpperCase())),
          h(
            "span",
            { class: "choice-meta" },
            t("index.host.rounds", { n: pack.rounds.length }),
            ": ",
            pack.rounds.map((r) => `${r.title} (${r.items} ${t(`kind.${r.kind}`)})`).join(" · "),
          ),
          pack.description ? h("span", { class: "choice-meta clamp", lang: pack.language, title: pack.description }, pack.description) : null,
        ),
      ),
    ),
  );
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
}

function renderRecent() {
  const rooms = store.get("ritrovo.hosted") || [];
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
  renderPacks();
}

function showError(id, text) {
  const el = byId(id);
  el.textContent = text || "";
  show(el, !!text);
}

async function onJoin(event) {
  event.preventDefault();
  const code = normalizeCode(byId("join-code").value);
  if (!CODE_RE.test(code)) {
    showError("join-error", t("index.join.bad_code"));
    byId("join-code").focus();
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

async function onCreate(event) {
  event.preventDefault();
  const name = byId("room-name").value.trim();
  if (!name) {
    showError("host-error", t("index.host.name_required"));
    byId("room-name").focus();
    return;
  }
  showError("host-error", "");
  const picked = byId("pack-list").querySelector("input:checked");
  const body = { name };
  if (picked && picked.value) body.pack = picked.value;
  const button = byId("create-button");
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
      const err = (data && data.error) || { code: `http_${response.status}`, message: response.statusText };
      showError("host-error", t("common.error", { message: err.message || err.code }));
      return;
    }
    store.set(hostKey(data.code), data.host_token);
    rememberHostedRoom(data.code, name);
    location.assign(`/host/${encodeURIComponent(data.code)}`);
  } catch (err) {
    showError("host-error", t("common.error", { message: String(err.message || err) }));
  } finally {
    button.disabled = false;
    button.textContent = t("index.host.create");
  }
}

function main() {
  initI18n();
  byId("join-form").addEventListener("submit", onJoin);
  byId("host-form").addEventListener("submit", onCreate);
  byId("join-code").addEventListener("input", (e) => {
    const el = e.target;
    const clean = el.value.toUpperCase();
    if (clean !== el.value) el.value = clean;
  });
  document.addEventListener("langchange", () => {
    renderPacks();
    renderRecent();
  });
  renderRecent();
  loadPacks();
}

main();
