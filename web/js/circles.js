// The facilitator's circles (/circles): create a circle, share its link, open
// rooms in it, see its members and past sessions (with their keepsakes),
// export it, have it forget a member, delete it.
//
// The facilitator token is shown by the server once (POST /api/circles) and
// kept here, in localStorage, as the console keeps a room's host token: this
// device is the facilitator's. The page reads the circle through its export
// (GET /api/circles/ID/export). Every text people typed is set as text.

import { byId, downloadBlob, fill, h, setText, show } from "./dom.js";
import { initI18n, lang, t } from "./i18n.js";
import { askConfirm, copyFrom, errorText, hostKey, refusalOf, rememberHostedRoom, store, toast } from "./common.js";

/**
 * A circle this device facilitates, as kept in localStorage.
 * @typedef {{id: string, name: string, token: string, rooms: {code: string, name: string}[]}} KeptCircle
 */

/**
 * @typedef {{member: string, name: string}} KeptPerson
 * @typedef {{
 *   room: {code: string, name: string, phase: string},
 *   podium: {rank: number, team: string, score: number, players: (KeptPerson & {points: number})[]}[],
 *   stories: {round: string, stories: unknown[]}[],
 *   whoswho: unknown[],
 *   colleagues: (KeptPerson & {team: string, met: number})[],
 *   trimmed?: string[],
 * }} KeptKeepsake
 * @typedef {{
 *   room: string, started_at: number, groups: string[][], teams: string[][],
 *   names: Record<string, string>, keepsake: KeptKeepsake | null,
 * }} CircleSession
 * @typedef {{id: string, name: string, first_seen: number, last_seen: number}} CircleMember
 * @typedef {{id: string, name: string, created_at: number, used_at: number, members: CircleMember[], sessions: CircleSession[]}} CircleExport
 */

const LIST_KEY = "ritrovo.circles";
const ID_RE = /^[A-Za-z0-9_-]{16}$/;

/** @type {CircleExport | null} */
let shown = null;
let failed = "";
/** The circle whose name the room name field was last given ("" for none). */
let roomNameOf = "";

/** @returns {KeptCircle[]} */
function keptCircles() {
  /** @type {unknown} */
  const list = store.get(LIST_KEY);
  if (!Array.isArray(list)) return [];
  // What another version of the page (or a hand) left there may have another shape.
  return list
    .filter((c) => c && typeof c.id === "string" && ID_RE.test(c.id) && typeof c.token === "string")
    .map((c) => ({
      id: c.id,
      name: typeof c.name === "string" ? c.name : c.id,
      token: c.token,
      rooms: Array.isArray(c.rooms) ? c.rooms.filter((/** @type {any} */ r) => r && typeof r.code === "string" && typeof r.name === "string") : [],
    }));
}

/** @param {KeptCircle[]} list */
function keepCircles(list) {
  store.set(LIST_KEY, list.slice(0, 50));
}

/** The circle the page shows (its id in the address's #), if this device keeps it. */
function current() {
  let id = "";
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch {
    return null; // a malformed address (#%E0): no circle
  }
  return keptCircles().find((c) => c.id === id) || null;
}

/** @param {number} at Unix seconds */
function when(at) {
  return new Date(at * 1000).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * @param {KeptCircle} circle
 * @param {string} path
 * @param {RequestInit} [init]
 */
function call(circle, path, init = {}) {
  return fetch(`/api/circles/${encodeURIComponent(circle.id)}${path}`, {
    ...init,
    cache: "no-store",
    headers: { Authorization: `Bearer ${circle.token}`, ...(init.headers || {}) },
  });
}

/**
 * The server's error of a refused call (its code, and its message for people).
 * @param {Response} response
 * @returns {Promise<{code: string, message: string}>}
 */
async function refusal(response) {
  return refusalOf(await response.json().catch(() => ({})), response);
}

function renderList() {
  const list = keptCircles();
  const open = current();
  show(byId("cc-list-box"), list.length > 0);
  fill(
    byId("cc-list"),
    list.map((c) =>
      h(
        "li",
        {},
        h(
          "a",
          { class: "choice", href: `#${encodeURIComponent(c.id)}`, "aria-current": open && open.id === c.id ? "page" : null },
          h("span", {}, h("span", { class: "choice-title" }, c.name), h("span", { class: "choice-meta" }, t("circles.rooms_count", { n: c.rooms.length }))),
        ),
      ),
    ),
  );
}

/** @param {KeptCircle} circle */
function renderRooms(circle) {
  show(byId("cc-no-rooms"), circle.rooms.length === 0);
  fill(
    byId("cc-rooms"),
    circle.rooms.map((room) =>
      h(
        "li",
        { class: "circle-room" },
        h("span", { class: "choice-title" }, room.name || room.code),
        " ",
        h("span", { class: "pill" }, room.code),
        " ",
        store.get(hostKey(room.code))
          ? [
              h("a", { class: "btn btn-small", href: `/host/${encodeURIComponent(room.code)}` }, t("circles.console")),
              " ",
              h("a", { class: "btn btn-small", href: `/keepsake/${encodeURIComponent(room.code)}?as=host` }, t("keepsake.title")),
            ]
          : null,
      ),
    ),
  );
}

/** @param {CircleSession} session */
function sessionSummary(session) {
  const kept = session.keepsake;
  if (!kept) return h("p", { class: "muted small" }, t("circles.no_keepsake"));
  const podium = kept.podium.map((row) => t("circles.podium_row", { rank: row.rank, team: row.team, score: row.score })).join(" · ");
  // Each row's `met` is how many people that member met for the first time
  // (guests included, colleagues of earlier sessions not): summed, a pair of
  // members would count twice, so the figure is the members who met someone new.
  const facts = [
    t("circles.stories_count", { n: kept.stories.reduce((n, r) => n + r.stories.length, 0) }),
    t("circles.facts_count", { n: kept.whoswho.length }),
    t("circles.met_count", { n: kept.colleagues.filter((row) => row.met > 0).length }),
  ];
  return h("div", { class: "small" }, podium ? h("p", null, podium) : null, h("p", { class: "muted" }, facts.join(" · ")));
}

/**
 * @param {KeptCircle} circle
 * @param {CircleExport} data
 */
function renderCircle(circle, data) {
  setText(byId("cc-circle-name"), data.name);
  byId("cc-link", HTMLInputElement).value = `${location.origin}/c/${data.id}`;
  const members = [...data.members].sort((a, b) => b.last_seen - a.last_seen);
  show(byId("cc-no-members"), members.length === 0);
  fill(
    byId("cc-members"),
    members.map((m) =>
      h(
        "li",
        { class: "row circle-member" },
        h("span", { class: "grow" }, h("strong", null, m.name), " ", h("span", { class: "muted small" }, t("circles.last_seen", { when: when(m.last_seen) }))),
        h("button", { class: "btn btn-small", type: "button", onclick: () => removeMember(circle, m) }, t("circles.remove")),
      ),
    ),
  );
  const sessions = [...data.sessions].reverse();
  show(byId("cc-no-sessions"), sessions.length === 0);
  fill(
    byId("cc-sessions"),
    sessions.map((s) =>
      h(
        "li",
        { class: "circle-session stack" },
        h(
          "p",
          null,
          h("strong", null, s.keepsake && s.keepsake.room.name ? s.keepsake.room.name : s.room),
          " ",
          h("span", { class: "pill" }, s.room),
          " ",
          h("span", { class: "muted small" }, when(s.started_at)),
        ),
        h("p", { class: "small" }, t("circles.session_people", { names: Object.values(s.names).join(", ") || "—" })),
        sessionSummary(s),
        store.get(hostKey(s.room)) ? h("a", { class: "btn btn-small", href: `/keepsake/${encodeURIComponent(s.room)}?as=host` }, t("keepsake.title")) : null,
      ),
    ),
  );
}

function render() {
  renderList();
  const circle = current();
  show(byId("cc-circle"), !!circle);
  const loaded = circle && shown && shown.id === circle.id ? shown : null;
  const name = loaded ? loaded.name : circle ? circle.name : "";
  // The page's own title (circles.html's) when no circle is shown, deleted or none chosen.
  document.title = name ? `${name} · ${t("circles.title")} · Ritrovo` : `Ritrovo · ${t("circles.title")}`;
  if (!circle) return;
  renderRooms(circle);
  const error = byId("cc-error");
  setText(error, failed);
  show(error, !!failed);
  if (loaded) renderCircle(circle, loaded);
  else setText(byId("cc-circle-name"), circle.name);
}

async function load() {
  const circle = current();
  shown = null;
  failed = "";
  render();
  if (!circle) {
    roomNameOf = "";
    return;
  }
  // Another circle shown: its name in the room name field (a name typed for
  // this circle stays when it is only loaded again, after a removal say).
  if (roomNameOf !== circle.id) {
    byId("cc-room-name", HTMLInputElement).value = circle.name;
    roomNameOf = circle.id;
  }
  try {
    const response = await call(circle, "/export");
    if (!response.ok) {
      const err = await refusal(response);
      failed = err.code === "bad_circle_token" ? t("circles.gone") : errorText(err);
    } else {
      shown = /** @type {CircleExport} */ (await response.json());
    }
  } catch {
    failed = t("circle.error");
  }
  if (current()?.id !== circle.id) return; // another circle was chosen meanwhile
  render();
}

/**
 * @param {string} id
 * @param {string} text
 */
function formError(id, text) {
  const el = byId(id);
  setText(el, text);
  show(el, !!text);
}

/** @param {SubmitEvent} event */
async function onCreate(event) {
  event.preventDefault();
  const input = byId("cc-name", HTMLInputElement);
  const name = input.value.trim();
  if (!name) {
    formError("cc-create-error", t("circles.name_required"));
    input.focus();
    return;
  }
  formError("cc-create-error", "");
  const button = byId("cc-create-button", HTMLButtonElement);
  button.disabled = true;
  try {
    const response = await fetch("/api/circles", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (!response.ok) {
      formError("cc-create-error", errorText(await refusal(response)));
      return;
    }
    const made = await response.json();
    keepCircles([{ id: made.id, name: made.name, token: made.facilitator_token, rooms: [] }, ...keptCircles()]);
    input.value = "";
    location.hash = encodeURIComponent(made.id); // hashchange loads it
    toast(t("circles.created", { name: made.name }));
  } catch {
    formError("cc-create-error", t("circle.error"));
  } finally {
    button.disabled = false;
  }
}

/** @param {SubmitEvent} event */
async function onOpenRoom(event) {
  event.preventDefault();
  const circle = current();
  if (!circle) return;
  const name = byId("cc-room-name", HTMLInputElement).value.trim() || circle.name;
  const button = byId("cc-room-button", HTMLButtonElement);
  button.disabled = true;
  try {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, circle: circle.id, circle_token: circle.token }),
    });
    if (!response.ok) {
      toast(errorText(await refusal(response)), { bad: true });
      return;
    }
    const room = await response.json();
    store.set(hostKey(room.code), room.host_token);
    rememberHostedRoom(room.code, name);
    const list = keptCircles();
    const kept = list.find((c) => c.id === circle.id);
    if (kept) kept.rooms = [{ code: room.code, name }, ...kept.rooms].slice(0, 20);
    keepCircles(list);
    toast(t("circles.room_opened", { code: room.code }));
    render();
  } catch {
    toast(t("circle.error"), { bad: true });
  } finally {
    button.disabled = false;
  }
}

/**
 * @param {KeptCircle} circle
 * @param {CircleMember} member
 */
async function removeMember(circle, member) {
  if (!(await askConfirm(t("circles.remove_confirm", { name: member.name }), t("circles.remove")))) return;
  try {
    const response = await call(circle, `/members/${encodeURIComponent(member.id)}`, { method: "DELETE" });
    if (!response.ok && (await refusal(response)).code !== "member_not_found") throw new Error(String(response.status));
    toast(t("circles.removed", { name: member.name }));
  } catch {
    toast(t("circle.error"), { bad: true });
  }
  load();
}

async function exportCircle() {
  const circle = current();
  if (!circle) return;
  try {
    const response = await call(circle, "/export");
    if (!response.ok) {
      toast(errorText(await refusal(response)), { bad: true }); // already says what went wrong
      return;
    }
    downloadBlob(await response.blob(), `ritrovo-circle-${circle.id}.json`);
  } catch (err) {
    toast(t("host.download_failed", { message: String(/** @type {Error} */ (err).message || err) }), { bad: true });
  }
}

async function deleteCircle() {
  const circle = current();
  if (!circle) return;
  if (!(await askConfirm(t("circles.delete_confirm", { name: circle.name }), t("circles.delete")))) return;
  try {
    const response = await call(circle, "", { method: "DELETE" });
    // Refused: it is gone already (or expired), and so is it from this device.
    if (!response.ok && (await refusal(response)).code !== "bad_circle_token") throw new Error(String(response.status));
  } catch {
    toast(t("circle.error"), { bad: true });
    return;
  }
  keepCircles(keptCircles().filter((c) => c.id !== circle.id));
  toast(t("circles.deleted", { name: circle.name }));
  history.replaceState(null, "", location.pathname);
  load();
}

function main() {
  initI18n();
  byId("cc-create").addEventListener("submit", onCreate);
  byId("cc-room").addEventListener("submit", onOpenRoom);
  const copy = byId("cc-copy");
  copy.addEventListener("click", () => copyFrom("cc-link", copy));
  byId("cc-export").addEventListener("click", exportCircle);
  byId("cc-delete").addEventListener("click", deleteCircle);
  window.addEventListener("hashchange", load);
  document.addEventListener("langchange", render);
  load();
}

main();
