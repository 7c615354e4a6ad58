"""The keepsake of a session: what a room leaves its host and its players.

One body (``build``), shown as a page (``web/keepsake.html``) or written as
Markdown (``markdown``):

- **the podium**: every team that played, ranked as the scoreboard ranks
  them, with its players and their points;
- **the stories written**: each story round's stories, hidden lines masked
  (the rounds over, and the running one once its stories are all shown:
  while writing or revealing, a story is nobody's to read in full yet);
- **the "Who's who" facts revealed**: each question played as far as its
  reveal (a hidden answer is never played, an answer not yet revealed is not
  in the room's results), with its prompt, its author, their team and the
  line they added;
- **colleagues met**: per player, how many people they met today who they
  had not met before: those they were grouped with in a coffee pairing or
  played on a team with. A room has no history before itself, so everyone
  met in it is new unless ``known_before`` (pairs of player ids, from a
  circle's past sessions) says otherwise. Only players still in the room
  count and are named: one who left is in no keepsake.

The host's body has every player's count (``colleagues``); a player's has
their own count and whom they met (``you``), never another player's. A
circle keeps the host's body of each of its sessions as ``for_circle``
makes it: people as the members they are, at most ``CIRCLE_MAX_BYTES``.
Nothing here reads the clock or the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any, Literal

import orjson

from . import stories
from .exports import md_escape, played_rounds
from .models import Room, StoryState
from .pack import Pack, StoryRound, WhosWhoRound
from .views import ranked_teams

Language = Literal["en", "it"]

# A story round is in the keepsake once every story has been shown.
_STORIES_SHOWN = ("voting", "results")
# The largest keepsake a circle keeps of one session (JSON bytes); past it,
# ``for_circle`` leaves out the story lines, then the stories and the facts,
# then the names (see there).
CIRCLE_MAX_BYTES = 32 * 1024


def colleagues_met(
    room: Room, known_before: Collection[tuple[str, str]] = ()
) -> dict[str, list[str]]:
    """Player id -> the ids of the players they met in this room and not before, in join order.

    Met: in one group of a coffee pairing (the rotations over and the running
    one) or on the same team. ``known_before`` holds pairs of ids met before
    this session, in either order. Every player's list: O(players x team
    size); a keepsake asks for one player's (``met_by``) or for the counts
    (``met_counts``), which cost no more than the room.
    """
    partners = _partners(room)
    known = _known(known_before)
    return {pid: met_by(room, pid, partners, known) for pid in room.players}


def met_by(
    room: Room,
    player_id: str,
    partners: dict[str, set[str]] | None = None,
    known: dict[str, set[str]] | None = None,
) -> list[str]:
    """The ids of the players ``player_id`` met in this room and not before, in join order."""
    partners = _partners(room) if partners is None else partners
    known = {} if known is None else known
    me = room.players[player_id]
    mine = partners.get(player_id, set())
    before = known.get(player_id, set())
    return [
        pid
        for pid, other in room.players.items()
        if pid != player_id and (other.team_id == me.team_id or pid in mine) and pid not in before
    ]


def met_counts(room: Room, known_before: Collection[tuple[str, str]] = ()) -> dict[str, int]:
    """Player id -> how many players they met in this room and not before.

    Counted, not listed: a team's size, the pairing partners from other
    teams, less the pairs known before that are among them. In a room of
    2,000 in two teams, listing everyone's colleagues took 0.74 s of the
    event loop per request.
    """
    partners = _partners(room)
    known = _known(known_before)
    team_size: dict[str, int] = {}
    for player in room.players.values():
        team_size[player.team_id] = team_size.get(player.team_id, 0) + 1
    counts: dict[str, int] = {}
    for pid, player in room.players.items():
        mine = partners.get(pid, set())
        others = sum(1 for o in mine if room.players[o].team_id != player.team_id)
        met_before = sum(
            1
            for o in known.get(pid, ())
            if o in room.players and (room.players[o].team_id == player.team_id or o in mine)
        )
        counts[pid] = team_size[player.team_id] - 1 + others - met_before
    return counts


def _partners(room: Room) -> dict[str, set[str]]:
    """Player id -> the players in a coffee pairing group with them (present players only)."""
    groups: list[Iterable[str]] = [g for pairing in room.pairings.past for g in pairing.groups]
    if room.pairings.current is not None:
        groups.extend(room.pairings.current.groups)
    partners: dict[str, set[str]] = {}
    for group in groups:
        present = [pid for pid in group if pid in room.players]
        for pid in present:
            partners.setdefault(pid, set()).update(o for o in present if o != pid)
    return partners


def _known(known_before: Collection[tuple[str, str]]) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for a, b in known_before:
        if a != b:
            known.setdefault(a, set()).add(b)
            known.setdefault(b, set()).add(a)
    return known


def _podium(room: Room, circle: bool = False) -> list[dict[str, Any]]:
    """The teams that played, ranked; with ``circle``, players as members (others left out)."""
    rows = []
    for rank, team in ranked_teams(room):
        members = room.team_players(team.id)
        if not members and not team.score:
            continue  # a team nobody played in
        players = [
            {"member": p.member, "name": p.name, "points": p.points}
            if circle
            else {"name": p.name, "points": p.points}
            for p in members
            if p.member or not circle
        ]
        rows.append({"rank": rank, "team": team.name, "score": team.score, "players": players})
    return rows


Writer = Callable[[Room, str], Any]


def _writer_name(room: Room, player_id: str) -> Any:
    return stories.player_name(room, player_id)


def _story_rounds(
    room: Room, pack: Pack | None, writer: Writer = _writer_name
) -> list[dict[str, Any]]:
    rounds = []
    for rnd, state in played_rounds(room, pack):
        # The running round, and a round the host ended before its stories
        # were shown (kept in the stage it was in): nobody has read them.
        if state.stage not in _STORIES_SHOWN:
            continue
        rounds.append({"round": rnd.title, "stories": _stories(room, rnd, state, writer)})
    return rounds


def _stories(
    room: Room, rnd: StoryRound, state: StoryState, writer: Writer
) -> list[dict[str, Any]]:
    """The round's stories; ``writer`` shows a writer's player id (None: left out)."""
    shown = []
    for team_id in stories.story_order(room, state):
        ts = state.stories[team_id]
        team = room.team(team_id)
        prompt = stories.prompt_of(rnd, ts)
        writers: list[str] = []
        for line in ts.lines:
            if not line.hidden and line.player_id not in writers:
                writers.append(line.player_id)
        story: dict[str, Any] = {
            "team": team.name if team is not None else team_id,
            "writers": [w for w in (writer(room, pid) for pid in writers) if w is not None],
            "theme": prompt.theme,
            "opening": prompt.opening,
            "lines": [{"hidden": True} if ln.hidden else {"text": ln.text} for ln in ts.lines],
        }
        if state.vote_counts:
            story["votes"] = state.vote_counts.get(team_id, 0)
        shown.append(story)
    return shown


def _facts(room: Room, pack: Pack | None) -> list[dict[str, Any]]:
    facts = []
    for result in room.riddle_results:
        if not result.author:  # a riddle's result; a question is recorded at its reveal only
            continue
        rnd = (
            pack.rounds[result.round_index]
            if pack is not None and 0 <= result.round_index < len(pack.rounds)
            else None
        )
        prompt = ""
        title = ""
        if isinstance(rnd, WhosWhoRound):
            title = rnd.title
            if 0 <= result.prompt < len(rnd.prompts):
                prompt = rnd.prompts[result.prompt]
        team = room.team(result.author_team)
        facts.append(
            {
                "round": title,
                "prompt": prompt,
                "answer": result.text,
                "author": result.author,
                "team": team.name if team is not None else "",
                "line": result.line,
            }
        )
    return facts


def build(
    room: Room,
    pack: Pack | None,
    *,
    player_id: str | None = None,
    known_before: Collection[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The keepsake as a JSON-able body: the host's (``player_id`` None) or a player's."""
    body: dict[str, Any] = {
        "room": {
            "code": room.code,
            "name": room.name,
            "pack": pack.title if pack is not None else None,
            "language": pack.language if pack is not None else "en",
            "phase": room.phase,
        },
        "podium": _podium(room),
        "stories": _story_rounds(room, pack),
        "whoswho": _facts(room, pack),
    }
    if player_id is None:
        counts = met_counts(room, known_before)
        body["colleagues"] = [
            {"name": p.name, "team": _team_name(room, p.team_id), "met": counts[p.id]}
            for p in room.players.values()
        ]
    else:
        me = room.players[player_id]
        mine = met_by(room, player_id, known=_known(known_before))
        names = [room.players[pid].name for pid in mine]
        body["you"] = {
            "name": me.name,
            "team": _team_name(room, me.team_id),
            "met": len(names),
            "colleagues": names,
        }
    return body


def _team_name(room: Room, team_id: str) -> str:
    team = room.team(team_id)
    return team.name if team is not None else ""


def _writer_member(room: Room, player_id: str) -> Any:
    player = room.players.get(player_id)
    if player is None or not player.member:
        return None
    return {"member": player.member, "name": player.name}


def for_circle(
    room: Room, pack: Pack | None, *, max_bytes: int = CIRCLE_MAX_BYTES
) -> dict[str, Any]:
    """The host's keepsake as the room's circle keeps it (``circles.record_session``).

    The host's body, with each person as the circle member they are
    (``{"member": id, "name": ...}``): a podium line's players, a story's
    writers, a "Who's who" fact's author (``member``, ``author``) and each
    row of colleagues met. Players who are not members (no device token, a
    full circle) are left out as the circle leaves them out of its groups:
    their podium line, their name among a story's writers (their lines
    stay), their facts and their row; a fact whose author is no longer in
    the room too. The counts are the room's (``known_before`` empty): the
    circle subtracts its earlier sessions itself.

    At most ``max_bytes`` of JSON: past it, the stories' lines go
    (``"trimmed": ["story_lines"]``), then the stories and the facts, then
    the players on the podium and the rows of colleagues met.
    """
    members = {p.name: p.member for p in room.players.values() if p.member}
    facts = [
        {**fact, "member": members[fact["author"]]}
        for fact in _facts(room, pack)
        if fact["author"] in members
    ]
    counts = met_counts(room)
    body: dict[str, Any] = {
        "room": {
            "code": room.code,
            "name": room.name,
            "pack": pack.title if pack is not None else None,
            "language": pack.language if pack is not None else "en",
            "phase": room.phase,
        },
        "podium": _podium(room, circle=True),
        "stories": _story_rounds(room, pack, _writer_member),
        "whoswho": facts,
        "colleagues": [
            {
                "member": p.member,
                "name": p.name,
                "team": _team_name(room, p.team_id),
                "met": counts[p.id],
            }
            for p in room.players.values()
            if p.member
        ],
    }
    return _bounded(body, max_bytes)


def _bounded(body: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    trimmed: list[str] = []
    cuts: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("story_lines", _drop_story_lines),
        ("stories", lambda b: b.update(stories=[])),
        ("whoswho", lambda b: b.update(whoswho=[])),
        ("names", _drop_names),
    ]
    for name, cut in cuts:
        if len(orjson.dumps(body)) <= max_bytes:
            break
        cut(body)
        trimmed.append(name)
        body["trimmed"] = trimmed
    return body


def _drop_story_lines(body: dict[str, Any]) -> None:
    for rnd in body["stories"]:
        for story in rnd["stories"]:
            story["lines"] = []


def _drop_names(body: dict[str, Any]) -> None:
    # What is left is bounded: the room, and a line per team (at most 26).
    for row in body["podium"]:
        row["players"] = []
    body["colleagues"] = []


# -- Markdown ----------------------------------------------------------------

_WORDS: dict[str, dict[Language, str]] = {
    "title": {"en": "Keepsake", "it": "Ricordo"},
    "pack": {"en": "Pack", "it": "Pacchetto"},
    "podium": {"en": "Podium", "it": "Podio"},
    "points": {"en": "points", "it": "punti"},
    "stories": {"en": "Stories", "it": "Storie"},
    "no_stories": {"en": "No stories were written.", "it": "Nessuna storia scritta."},
    "writers": {"en": "Writers", "it": "Autori"},
    "theme": {"en": "Theme", "it": "Tema"},
    "votes": {"en": "Votes", "it": "Voti"},
    "hidden": {"en": stories.HIDDEN_LINE_TEXT, "it": "[nascosta dall'host]"},
    "whoswho": {"en": "Who's who", "it": "Chi è chi"},
    "no_facts": {"en": "No answer was revealed.", "it": "Nessuna risposta svelata."},
    "colleagues": {"en": "Colleagues met", "it": "Colleghi incontrati"},
    "you": {"en": "You", "it": "Tu"},
}


def _met_line(name: str, count: int, language: Language, *, you: bool) -> str:
    if language == "it":
        who = "Oggi hai" if you else f"Oggi {name} ha"
        what = "un nuovo collega" if count == 1 else f"{count} nuovi colleghi"
        return f"{who} conosciuto {what}"
    who = "You" if you else name
    what = "1 new colleague" if count == 1 else f"{count} new colleagues"
    return f"{who} met {what} today"


def markdown(body: dict[str, Any], language: Language = "en") -> str:
    """A keepsake body (``build``) as Markdown: every text a person typed is escaped."""

    def w(key: str) -> str:
        return _WORDS[key][language]

    room = body["room"]
    out = [f"# {w('title')}: {md_escape(room['name'] or room['code'])}", ""]
    if room["pack"]:
        out += [f"_{w('pack')}: {md_escape(room['pack'])}_", ""]
    if "you" in body:
        you = body["you"]
        line = md_escape(_met_line(you["name"], you["met"], language, you=True))
        if you["colleagues"]:
            line += ": " + ", ".join(md_escape(n) for n in you["colleagues"])
        out += [f"**{line}**", ""]
    out += [f"## {w('podium')}", ""]
    for row in body["podium"]:
        players = ", ".join(f"{md_escape(p['name'])} ({p['points']})" for p in row["players"])
        item = f"{row['rank']}. **{md_escape(row['team'])}**: {row['score']} {w('points')}"
        out.append(f"{item} ({players})" if players else item)
    out += ["", f"## {w('stories')}", ""]
    if not body["stories"]:
        out += [f"_{w('no_stories')}_", ""]
    for rnd in body["stories"]:
        out += [f"### {md_escape(rnd['round'])}", ""]
        for story in rnd["stories"]:
            out += [f"#### {md_escape(story['team'])}", ""]
            if story["writers"]:
                out += [
                    f"_{w('writers')}: {', '.join(md_escape(n) for n in story['writers'])}_",
                    "",
                ]
            if story["theme"]:
                out += [f"_{w('theme')}: {md_escape(story['theme'])}_", ""]
            out += [md_escape(story["opening"]), ""]
            for line in story["lines"]:
                out += [w("hidden") if line.get("hidden") else md_escape(line["text"]), ""]
            if "votes" in story:
                out += [f"_{w('votes')}: {story['votes']}_", ""]
    out += [f"## {w('whoswho')}", ""]
    if not body["whoswho"]:
        out += [f"_{w('no_facts')}_", ""]
    for fact in body["whoswho"]:
        item = f"- **{md_escape(fact['author'])}**"
        if fact["team"]:
            item += f" ({md_escape(fact['team'])})"
        if fact["prompt"]:
            item += f", _{md_escape(fact['prompt'])}_"
        item += f": {md_escape(fact['answer'])}"
        if fact["line"]:
            item += f" — {md_escape(fact['line'])}"
        out.append(item)
    if body["whoswho"]:
        out.append("")
    if "colleagues" in body:
        out += [f"## {w('colleagues')}", ""]
        for row in body["colleagues"]:
            out.append(f"- {md_escape(_met_line(row['name'], row['met'], language, you=False))}")
        out.append("")
    return "\n".join(out)
