// The console's teams and players: rename or delete a team, move or kick a
// player, each through a small dialog.

import { h, byId, keyed } from "../dom.js";
import { t, lang } from "../i18n.js";
import { askConfirm, presence, teamSlot, teamsInRoomOrder } from "../common.js";

/** @import { Child } from "../dom.js" */
/** @import { Player, RoomState, Team } from "../types.js" */

/**
 * Send a host command (the page reports its errors).
 * @callback Command
 * @param {string} type
 * @param {Record<string, unknown>} fields
 * @returns {Promise<unknown>}
 */

/**
 * @param {RoomState} st
 * @param {Command} command
 */
export function renderTeams(st, command) {
  const teams = teamsInRoomOrder(st);
  const inRound = st.phase === "riddle" || st.phase === "story";
  keyed(
    byId("team-admin"),
    teams,
    (team) => team.id,
    (team) => JSON.stringify([team, teams.length, inRound, teams.map((x) => [x.id, x.name]), lang]),
    (team) =>
      h(
        "li",
        { class: `team-${teamSlot(teams, team.id)}` },
        h(
          "div",
          { class: "team-admin-head" },
          h("span", { class: "team-dot", "aria-hidden": "true" }),
          h("span", { class: "score-name" }, team.name, " ", h("span", { class: "muted small nowrap" }, t("common.points", { n: team.score }))),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small btn-ghost",
              "aria-label": t("host.rename_team_label", { team: team.name }),
              dataset: { fk: `rename-${team.id}` },
              onclick: () => renameTeam(team, command),
            },
            t("host.rename"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small btn-ghost",
              disabled: inRound || teams.length < 2,
              "aria-label": t("host.delete_label", { team: team.name }),
              dataset: { fk: `delete-${team.id}` },
              onclick: () => deleteTeam(team, command),
            },
            t("host.delete"),
          ),
        ),
        team.players.length
          ? h(
              "ul",
              { class: "player-admin" },
              team.players.map((p) =>
                h(
                  "li",
                  {},
                  presence(p),
                  h("span", { class: "pname" }, p.name, " ", h("span", { class: "muted small nowrap" }, t("common.points", { n: p.points }))),
                  teams.length > 1
                    ? h(
                        "button",
                        {
                          type: "button",
                          class: "btn btn-small",
                          "aria-label": t("host.move_to", { name: p.name }),
                          dataset: { fk: `move-${p.id}` },
                          onclick: () => movePlayer(p, teams.filter((x) => x.id !== team.id), command),
                        },
                        t("host.move"),
                      )
                    : null,
                  h(
                    "button",
                    {
                      type: "button",
                      class: "btn btn-small btn-danger",
                      "aria-label": t("host.kick_label", { name: p.name }),
                      dataset: { fk: `kick-${p.id}` },
                      onclick: () => kick(p, command),
                    },
                    t("host.kick"),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted small" }, t("common.no_players")),
      ),
  );
}

// ---- dialogs ------------------------------------------------------------------------------------

let dialogs = 0;

/**
 * A small modal form; resolves with the form's values, or null when cancelled.
 * @param {string} title
 * @param {Child} fields
 * @param {string} okLabel
 * @returns {Promise<Record<string, string> | null>}
 */
function askForm(title, fields, okLabel) {
  return new Promise((resolve) => {
    const id = `dlg-${++dialogs}`;
    const form = h("form", { method: "dialog", class: "stack" }, h("p", { id, class: "confirm-message" }, title), fields, h(
      "div",
      { class: "row confirm-actions" },
      h("button", { class: "btn", value: "cancel", type: "submit", formnovalidate: true }, t("common.cancel")),
      h("button", { class: "btn btn-primary", value: "ok", type: "submit" }, okLabel),
    ));
    const dlg = h("dialog", { class: "confirm-dialog", "aria-labelledby": id }, form);
    dlg.addEventListener("close", () => {
      const values = dlg.returnValue === "ok" ? Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)])) : null;
      dlg.remove();
      resolve(values);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector("input, select");
    if (first instanceof HTMLElement) first.focus();
  });
}

/**
 * @param {Team} team
 * @param {Command} command
 */
async function renameTeam(team, command) {
  const inputId = `rename-input-${team.id}`;
  const values = await askForm(
    t("host.rename_label", { team: team.name }),
    h("div", { class: "field" }, h("label", { for: inputId }, t("host.rename")), h("input", { id: inputId, name: "name", value: team.name, maxlength: 32, required: true, autocomplete: "off" })),
    t("common.save"),
  );
  if (values && values.name.trim() && values.name.trim() !== team.name) {
    await command("rename_team", { team: team.id, name: values.name.trim() });
  }
}

/**
 * @param {Team} team
 * @param {Command} command
 */
async function deleteTeam(team, command) {
  if (await askConfirm(t("host.delete_team_confirm", { team: team.name }), t("host.delete_team"))) {
    await command("delete_team", { team: team.id });
  }
}

/**
 * @param {Player} player
 * @param {Team[]} others the teams the player may go to
 * @param {Command} command
 */
async function movePlayer(player, others, command) {
  const selectId = `move-select-${player.id}`;
  const values = await askForm(
    t("host.move_to", { name: player.name }),
    h(
      "div",
      { class: "field" },
      h("label", { for: selectId }, t("common.team")),
      h("select", { id: selectId, name: "team" }, others.map((x) => h("option", { value: x.id }, x.name))),
    ),
    t("host.done"),
  );
  if (values && values.team) await command("move_player", { player: player.id, team: values.team });
}

/**
 * @param {Player} player
 * @param {Command} command
 */
async function kick(player, command) {
  if (await askConfirm(t("host.kick_confirm", { name: player.name }), t("host.kick"))) {
    await command("kick", { player: player.id });
  }
}
