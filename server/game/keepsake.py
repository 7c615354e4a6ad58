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

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from . import stories
from .exports import md_escape, played_rounds
from .models import RiddleResult, Room, StoryLine, StoryState
from .pack import Pack, StoryRound, WhosWhoRound
from .views import ranked_teams

Language = Literal["en", "it"]

# A story round is in the keepsake once every story has been shown.
_STORIES_SHOWN = ("voting", "results")
# The largest keepsake a circle keeps of one session (JSON bytes); past it,
# ``for_circle`` leaves out story lines, then stories, then facts, one at a
# time from the last, and the people last (see there).
CIRCLE_MAX_BYTES = 32 * 1024
# The shape ``for_circle`` makes (its ``"v"``); ``circles.upgrade_keepsake``
# reads the first one (no ``"v"``: people as {"member", "name"}, lines without writer).
CIRCLE_KEEPSAKE_VERSION = 2


@dataclass(frozen=True, slots=True)
class KnownBefore:
    """Who met whom before this session, as bit masks: O(people) to build and to ask.

    ``bits``: each person's bit; ``masks``: each person's mask of the bits of
    those they met before. People are whatever ids the caller keys them by
    (a room's player ids for ``build``; a circle's member ids). Two ids may
    share a bit (one member who joined twice).
    """

    bits: Mapping[str, int]
    masks: Mapping[str, int]

    @classmethod
    def of_pairs(cls, pairs: Collection[tuple[str, str]]) -> KnownBefore:
        """From pairs of ids met before, in either order (a pair of one id twice is ignored)."""
        bits: dict[str, int] = {}
        masks: dict[str, int] = {}
        for a, b in pairs:
            if a == b:
                continue
            bit_a, bit_b = bits.setdefault(a, len(bits)), bits.setdefault(b, len(bits))
            masks[a] = masks.get(a, 0) | 1 << bit_b
            masks[b] = masks.get(b, 0) | 1 << bit_a
        return cls(bits, masks)

    def knows(self, person: str, other: str) -> bool:
        """Whether ``person`` met ``other`` before."""
        bit = self.bits.get(other)
        return bit is not None and other != person and bool(self.masks.get(person, 0) >> bit & 1)


NOBODY_KNOWN = KnownBefore({}, {})
Known = Collection[tuple[str, str]] | KnownBefore


def _as_known(known_before: Known) -> KnownBefore:
    if isinstance(known_before, KnownBefore):
        return known_before
    return KnownBefore.of_pairs(known_before) if known_before else NOBODY_KNOWN


def colleagues_met(room: Room, known_before: Known = ()) -> dict[str, list[str]]:
    """Player id -> the ids of the players they met in this room and not before, in join order.

    Met: in one group of a coffee pairing (the rotations over and the running
    one) or on the same team. ``known_before`` holds pairs of ids met before
    this session, in either order (or a ``KnownBefore``). Every player's
    list: O(players x team size); a keepsake asks for one player's
    (``met_by``) or for the counts (``met_counts``), which cost no more than
    the room.
    """
    partners = _partners(room)
    known = _as_known(known_before)
    return {pid: met_by(room, pid, partners, known) for pid in room.players}


def met_by(
    room: Room,
    player_id: str,
    partners: dict[str, set[str]] | None = None,
    known: KnownBefore = NOBODY_KNOWN,
) -> list[str]:
    """The ids of the players ``player_id`` met in this room and not before, in join order."""
    partners = _partners(room) if partners is None else partners
    me = room.players[player_id]
    mine = partners.get(player_id, set())
    return [
        pid
        for pid, other in room.players.items()
        if pid != player_id
        and (other.team_id == me.team_id or pid in mine)
        and not known.knows(player_id, pid)
    ]


def met_counts(room: Room, known_before: Known = ()) -> dict[str, int]:
    """Player id -> how many players they met in this room and not before.

    Counted, not listed: a team's size, the pairing partners from other
    teams, less those known before among them (the popcount of a mask of
    whom they met today and of whom they knew: O(players + pairing groups)).
    In a room of 2,000 in two teams, listing everyone's colleagues took
    0.74 s of the event loop per request.
    """
    partners = _partners(room)
    known = _as_known(known_before)
    team_size: dict[str, int] = {}
    team_mask: dict[str, int] = {}  # the known people on each team
    for pid, player in room.players.items():
        team_size[player.team_id] = team_size.get(player.team_id, 0) + 1
        bit = known.bits.get(pid)
        if bit is not None:
            team_mask[player.team_id] = team_mask.get(player.team_id, 0) | 1 << bit
    counts: dict[str, int] = {}
    for pid, player in room.players.items():
        mine = partners.get(pid, set())
        others = sum(1 for o in mine if room.players[o].team_id != player.team_id)
        counts[pid] = team_size[player.team_id] - 1 + others
        before = known.masks.get(pid, 0)
        if before:
            today = team_mask.get(player.team_id, 0)
            for o in mine:
                bit = known.bits.get(o)
                if bit is not None:
                    today |= 1 << bit
            own = known.bits.get(pid)
            if own is not None:
                today &= ~(1 << own)
            counts[pid] -= (today & before).bit_count()
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


def _podium(room: Room, circle: bool = False) -> list[dict[str, Any]]:
    """The teams that played, ranked; with ``circle``, players as ``[member id, points]``
    (others left out)."""
    rows = []
    for rank, team in ranked_teams(room):
        members = room.team_players(team.id)
        if not members and not team.score:
            continue  # a team nobody played in
        players: list[Any] = (
            [[p.member, p.points] for p in members if p.member]
            if circle
            else [{"name": p.name, "points": p.points} for p in members]
        )
        rows.append({"rank": rank, "team": team.name, "score": team.score, "players": players})
    return rows


Writer = Callable[[Room, str], Any]
LineOf = Callable[[Room, StoryLine], dict[str, Any]]


def _writer_name(room: Room, player_id: str) -> Any:
    return stories.player_name(room, player_id)


def _line_text(room: Room, line: StoryLine) -> dict[str, Any]:
    return {"hidden": True} if line.hidden else {"text": line.text}


def _story_rounds(
    room: Room, pack: Pack | None, writer: Writer = _writer_name, line_of: LineOf = _line_text
) -> list[dict[str, Any]]:
    rounds = []
    for rnd, state in played_rounds(room, pack):
        # The running round, and a round the host ended before its stories
        # were shown (kept in the stage it was in): nobody has read them.
        if state.stage not in _STORIES_SHOWN:
            continue
        rounds.append({"round": rnd.title, "stories": _stories(room, rnd, state, writer, line_of)})
    return rounds


def _stories(
    room: Room, rnd: StoryRound, state: StoryState, writer: Writer, line_of: LineOf
) -> list[dict[str, Any]]:
    """The round's stories; ``writer`` shows a writer's player id (None: left out), ``line_of`` a line."""
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
            "lines": [line_of(room, ln) for ln in ts.lines],
        }
        if state.vote_counts:
            story["votes"] = state.vote_counts.get(team_id, 0)
        shown.append(story)
    return shown


def _facts(room: Room, pack: Pack | None) -> list[tuple[RiddleResult, dict[str, Any]]]:
    """The "Who's who" facts revealed, each with the result it comes from."""
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
        fact = {
            "round": title,
            "prompt": prompt,
            "answer": result.text,
            "author": result.author,
            "team": team.name if team is not None else "",
            "line": result.line,
        }
        facts.append((result, fact))
    return facts


def _room_info(room: Room, pack: Pack | None) -> dict[str, Any]:
    return {
        "code": room.code,
        "name": room.name,
        "pack": pack.title if pack is not None else None,
        "language": pack.language if pack is not None else "en",
        "phase": room.phase,
    }


def build(
    room: Room,
    pack: Pack | None,
    *,
    player_id: str | None = None,
    known_before: Known = (),
) -> dict[str, Any]:
    """The keepsake as a JSON-able body: the host's (``player_id`` None) or a player's.

    ``known_before``: pairs of player ids met before this session (or a
    ``KnownBefore`` keyed by player id): not new colleagues.
    """
    body: dict[str, Any] = {
        "room": _room_info(room, pack),
        "podium": _podium(room),
        "stories": _story_rounds(room, pack),
        "whoswho": [fact for _, fact in _facts(room, pack)],
    }
    known = _as_known(known_before)
    if player_id is None:
        counts = met_counts(room, known)
        body["colleagues"] = [
            {"name": p.name, "team": _team_name(room, p.team_id), "met": counts[p.id]}
            for p in room.players.values()
        ]
    else:
        me = room.players[player_id]
        mine = met_by(room, player_id, known=known)
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
    return player.member


def _line_member(room: Room, line: StoryLine) -> dict[str, Any]:
    """A line with its writer's member id; masked as a hidden one when its writer is no
    member (a guest, or gone): the circle could not forget it on their behalf."""
    player = room.players.get(line.player_id)
    if line.hidden or player is None or not player.member:
        return {"hidden": True}
    return {"text": line.text, "member": player.member}


def for_circle(
    room: Room, pack: Pack | None, *, max_bytes: int = CIRCLE_MAX_BYTES
) -> dict[str, Any]:
    """The host's keepsake as the room's circle keeps it (``circles.record_session``).

    Compact, and only members: ``"v": 2``; a podium line's players as
    ``[member id, points]``; a story's writers as member ids and each line
    it shows as ``{"text", "member"}`` (the writer's); a "Who's who" fact
    with its author's ``member`` (found by the author's player id, never by
    name: someone who joined later under the author's name is not them);
    the colleagues met as ``[member id, count]`` rows. No names: the circle
    keeps each session's names once (``CircleSession.names``). Players who
    are not members (no device token, a full circle) are left out as the
    circle leaves them out of its groups: their podium place, their name
    among the writers, their facts, their row; their lines are masked as
    hidden ones. The counts are the room's (``known_before`` empty): the
    circle subtracts its earlier sessions itself.

    At most ``max_bytes`` of JSON: past it, one at a time from the last,
    stories' lines go (``"trimmed": ["story_lines"]``), then stories, then
    facts, and last the podium's players and the rows of colleagues met.
    """
    facts = []
    for result, fact in _facts(room, pack):
        author = room.players.get(result.author_id) if result.author_id else None
        if author is None or not author.member:
            continue  # a guest's, one who left, or a result stored before ids were
        facts.append({**{k: v for k, v in fact.items() if k != "author"}, "member": author.member})
    counts = met_counts(room)
    body: dict[str, Any] = {
        "v": CIRCLE_KEEPSAKE_VERSION,
        "room": _room_info(room, pack),
        "podium": _podium(room, circle=True),
        "stories": _story_rounds(room, pack, _writer_member, _line_member),
        "whoswho": facts,
        "colleagues": [[p.member, counts[p.id]] for p in room.players.values() if p.member],
    }
    return _bounded(body, max_bytes)


# The most "trimmed" adds to a body.
_TRIMMED_ROOM = len(orjson.dumps({"trimmed": ["story_lines", "stories", "whoswho", "names"]}))


def _bounded(body: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """``body`` cut, item by item, to at most ``max_bytes`` of JSON (see ``for_circle``).

    Each item's size is measured once (O(body)), not the whole body per cut.
    """
    size = len(orjson.dumps(body))
    if size <= max_bytes:
        return body
    budget = max_bytes - _TRIMMED_ROOM
    trimmed: list[str] = []

    def note(kind: str) -> None:
        if kind not in trimmed:
            trimmed.append(kind)

    def pop(items: list[Any]) -> int:
        """Remove the last item; the bytes saved (its comma too, when others are left)."""
        return len(orjson.dumps(items.pop())) + (1 if items else 0)

    for rnd in reversed(body["stories"]):
        for story in reversed(rnd["stories"]):
            if size <= budget:
                break
            if story["lines"]:
                size -= len(orjson.dumps(story["lines"])) - 2
                story["lines"] = []
                note("story_lines")
    while size > budget and body["stories"]:
        rounds = body["stories"]
        size -= pop(rounds[-1]["stories"]) if rounds[-1]["stories"] else pop(rounds)
        note("stories")
    while size > budget and body["whoswho"]:
        size -= pop(body["whoswho"])
        note("whoswho")
    if size > budget:
        # What is left is bounded: the room, and a line per team (at most 26).
        for row in body["podium"]:
            row["players"] = []
        body["colleagues"] = []
        note("names")
    body["trimmed"] = trimmed
    return body


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
    "hidden": {"en": stories.HIDDEN_LINE_TEXT, "it": "[nascosta da chi conduce]"},
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
