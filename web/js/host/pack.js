// The console's pack card: the pack in use, the library, and uploads.

import { h, byId, fill, show, setText } from "../dom.js";
import { t, lang } from "../i18n.js";
import { errorText, refusalOf } from "../common.js";
import { ERROR } from "../protocol.js";

/** @import { PackSummary, RoomState, WireError } from "../types.js" */

/**
 * @param {RoomState} st
 * @param {PackSummary[]} packs the library
 */
export function renderPack(st, packs) {
  const canChange = st.phase === "lobby" || st.phase === "finished";
  setText(
    byId("pack-current"),
    st.pack ? t("host.pack_current", { title: `${st.pack.title} (${st.pack.language.toUpperCase()})` }) : t("host.pack_none"),
  );
  show(byId("pack-locked"), !canChange);
  const select = byId("pack-select", HTMLSelectElement);
  const sig = JSON.stringify([packs.map((p) => p.id), lang]);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    const keep = select.value || (st.pack ? st.pack.id : "");
    fill(
      select,
      packs.map((p) => h("option", { value: p.id, lang: p.language }, `${p.title} (${p.language.toUpperCase()})`)),
    );
    if (keep && packs.some((p) => p.id === keep)) select.value = keep;
  }
  select.disabled = !canChange;
  byId("btn-choose-pack", HTMLButtonElement).disabled = !canChange || !packs.length;
  byId("pack-file", HTMLInputElement).disabled = !canChange;
  byId("btn-upload", HTMLButtonElement).disabled = !canChange;
}

/** @returns {Promise<PackSummary[]>} the library (empty when it cannot be had) */
export async function loadPacks() {
  try {
    const response = await fetch("/api/packs");
    return (await response.json()).packs || [];
  } catch {
    return [];
  }
}

/**
 * Upload the chosen pack file to the room, and show what came of it (the
 * problems of an invalid pack, one a line).
 * @param {string} code
 * @param {string} token
 */
export async function uploadPack(code, token) {
  const input = byId("pack-file", HTMLInputElement);
  const file = input.files ? input.files[0] : undefined;
  const out = byId("upload-result");
  if (!file) {
    input.focus();
    return;
  }
  fill(out, h("p", { class: "muted" }, t("common.loading")));
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(code)}/pack?filename=${encodeURIComponent(file.name)}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: file,
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      fill(out, h("p", { class: "verdict-flash correct" }, "✓ ", t("host.pack_uploaded", { title: body.pack ? body.pack.title : file.name })));
      input.value = "";
      return;
    }
    /** @type {WireError} */
    const err = refusalOf(body, response);
    if (err.code === ERROR.INVALID_PACK && Array.isArray(err.problems)) {
      fill(
        out,
        h("p", { class: "form-error" }, t("host.pack_problems")),
        h(
          "ul",
          { class: "problems", id: "pack-problems" },
          err.problems.map((p) => {
            // A spreadsheet's problem names its cell, a text file's its line.
            const where = p.cell ? `${p.file}:${p.cell}` : p.line === null || p.line === undefined ? p.file : `${p.file}:${p.line}`;
            return h("li", {}, p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`);
          }),
        ),
      );
    } else {
      fill(out, h("p", { class: "form-error" }, errorText(err)));
    }
  } catch (err) {
    fill(out, h("p", { class: "form-error" }, t("common.error", { message: String(/** @type {Error} */ (err).message || err) })));
  }
}
