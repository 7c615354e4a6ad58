// The session's keepsake (/keepsake/CODE): the podium, the stories, the "Who's
// who" facts revealed, and the colleagues met. The page asks the server with
// the token this device holds for the room: a player's resume token (their own
// count of colleagues met) or the host token (everyone's; the console links
// here with ?as=host). Every text people typed is set as text, never as HTML.

import { byId, downloadBlob, fill, h, setText, show } from "./dom.js";
import { initI18n, lang, t } from "./i18n.js";
import { mountIcons } from "./icons.js";
import { codeFromPath, hostKey, keepsakeKey, playerKey, store, toast } from "./common.js";

/** @import { PlayerSession } from "./common.js" */

/**
 * @typedef {{name: string, points: number}} KeepsakePlayer
 * @typedef {{rank: number, team: string, score: number, players: KeepsakePlayer[]}} PodiumRow
 * @typedef {{text?: string, hidden?: boolean}} KeepsakeLine
 * @typedef {{team: string, writers: string[], theme: string, opening: string, lines: KeepsakeLine[], votes?: number}} KeepsakeStory
 * @typedef {{round: string, stories: KeepsakeStory[]}} KeepsakeRound
 * @typedef {{round: string, prompt: string, answer: string, author: string, team: string, line: string}} KeepsakeFact
 * @typedef {{name: string, team: string, met: number}} ColleagueRow
 * @typedef {{name: string, team: string, met: number, colleagues: string[]}} KeepsakeYou
 * @typedef {{
 *   room: {code: string, name: string, pack: string | null, language: string, phase: string},
 *   podium: PodiumRow[],
 *   stories: KeepsakeRound[],
 *   whoswho: KeepsakeFact[],
 *   colleagues?: ColleagueRow[],
 *   you?: KeepsakeYou,
 * }} Keepsake
 */

const code = codeFromPath();
/** @type {Keepsake | null} */
let kept = null;

/** The token this device holds for the room, or null. */
function token() {
  /** @type {string | null} */
  const host = store.get(hostKey(code));
  /** @type {PlayerSession | null} */
  const session = store.get(playerKey(code));
  /** @type {string | null} */
  const played = (session && session.token) || store.get(keepsakeKey(code));
  const asHost = new URLSearchParams(location.search).get("as") === "host";
  return asHost ? host || played : played || host;
}

/**
 * @param {string} title
 * @param {string} text
 */
function showMessage(title, text) {
  show(byId("ks-loading"), false);
  show(byId("ks-body"), false);
  setText(byId("ks-message-title"), title);
  setText(byId("ks-message-text"), text);
  show(byId("ks-message"));
}

/** @param {Keepsake} body */
function render(body) {
  const room = body.room;
  document.title = `${t("keepsake.title")} · ${room.name || room.code} · Ritrovo`;
  setText(byId("ks-room"), room.name || room.code);
  setText(byId("ks-pack"), room.pack || "");
  show(byId("ks-in-progress"), room.phase !== "finished" && room.phase !== "closed");

  const you = body.you;
  show(byId("ks-you"), !!you);
  show(byId("ks-you-names"), !!you && you.colleagues.length > 0);
  if (you) {
    setText(byId("ks-you"), t("keepsake.you_met", { n: you.met }));
    fill(byId("ks-you-names"), you.colleagues.map((name) => h("li", null, name)));
  }

  fill(
    byId("ks-podium"),
    body.podium.map((row) =>
      h(
        "li",
        { class: ["keepsake-team", row.rank <= 3 && `rank-${row.rank}`] },
        h("span", { class: "keepsake-rank" }, t("common.rank", { n: row.rank })),
        " ",
        h("strong", null, row.team),
        " ",
        h("span", { class: "muted" }, t("common.points_long", { n: row.score })),
        row.players.length
          ? h("ul", { class: "keepsake-names small" }, row.players.map((p) => h("li", null, p.name, " ", h("span", { class: "muted" }, `(${p.points})`))))
          : null,
      ),
    ),
  );

  show(byId("ks-no-stories"), body.stories.length === 0);
  fill(
    byId("ks-stories"),
    body.stories.map((rnd) =>
      h(
        "section",
        { class: "stack" },
        h("h3", null, rnd.round),
        rnd.stories.map((story) =>
          h(
            "article",
            { class: "keepsake-story stack" },
            h("h4", null, story.team),
            story.writers.length ? h("p", { class: "muted small" }, t("keepsake.writers", { names: story.writers.join(", ") })) : null,
            story.theme ? h("p", { class: "muted small" }, t("story.theme", { theme: story.theme })) : null,
            h(
              "div",
              { class: "story" },
              h("p", { class: "story-opening" }, story.opening),
              h(
                "ol",
                { class: "story-lines" },
                story.lines.map((line) =>
                  line.hidden ? h("li", { class: "line-hidden" }, t("story.hidden_line")) : h("li", null, line.text || ""),
                ),
              ),
            ),
            story.votes !== undefined ? h("p", { class: "muted small" }, t("story.votes", { n: story.votes })) : null,
          ),
        ),
      ),
    ),
  );

  show(byId("ks-no-facts"), body.whoswho.length === 0);
  fill(
    byId("ks-facts"),
    body.whoswho.map((fact) =>
      h(
        "li",
        { class: "keepsake-fact stack" },
        fact.prompt ? h("p", { class: "muted small" }, fact.prompt) : null,
        h("blockquote", { class: "ww-quote" }, fact.answer),
        h("p", null, h("strong", null, fact.author), fact.team ? ` (${fact.team})` : ""),
        fact.line ? h("p", { class: "ww-line" }, fact.line) : null,
      ),
    ),
  );

  const colleagues = body.colleagues;
  show(byId("ks-colleagues-box"), !!colleagues);
  fill(
    byId("ks-colleagues"),
    (colleagues || []).map((row) => h("li", null, t("keepsake.colleague_met", { name: row.name, team: row.team, n: row.met }))),
  );

  show(byId("ks-loading"), false);
  show(byId("ks-message"), false);
  show(byId("ks-body"));
}

/**
 * @param {string} secret
 * @param {"json" | "md"} format
 */
function request(secret, format) {
  const query = format === "md" ? `?lang=${encodeURIComponent(lang)}` : "";
  return fetch(`/api/rooms/${encodeURIComponent(code)}/keepsake.${format}${query}`, {
    headers: { Authorization: `Bearer ${secret}` },
    cache: "no-store",
  });
}

async function load() {
  const secret = token();
  if (!code || !secret) {
    showMessage(t("keepsake.no_token_title"), t("keepsake.no_token"));
    return;
  }
  try {
    const response = await request(secret, "json");
    if (!response.ok) {
      showMessage(t("keepsake.refused_title"), t("keepsake.refused"));
      return;
    }
    kept = /** @type {Keepsake} */ (await response.json());
    render(kept);
  } catch {
    showMessage(t("keepsake.refused_title"), t("common.error", { message: "network" }));
  }
}

async function download() {
  const secret = token();
  if (!secret) return;
  try {
    const response = await request(secret, "md");
    if (!response.ok) throw new Error(String(response.status));
    downloadBlob(await response.blob(), `ritrovo-${code}-keepsake.md`);
  } catch (err) {
    toast(t("host.download_failed", { message: String(/** @type {Error} */ (err).message || err) }), { bad: true });
  }
}

function main() {
  initI18n();
  mountIcons();
  byId("ks-download").addEventListener("click", download);
  document.addEventListener("langchange", () => {
    if (kept) render(kept);
  });
  load();
}

main();
