"""The state of a room as plain data.

These dataclasses are the whole truth about a room: the stores save them as
JSON and every process rebuilds them from that JSON, so nothing here may hold
a connection, a task or a clock. Times are absolute Unix seconds (floats)
handed in by the caller as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .pairing import MentorRole, Pairing

# Players per room unless the server is configured otherwise (Settings.max_players_per_room).
DEFAULT_MAX_PLAYERS = 200

RoomPhase = Literal["lobby", "riddle", "story", "whoswho", "between_rounds", "finished", "closed"]
# The phases a game ends in: the commit that moves a room into one has its
# session kept by its circle, with its keepsake.
ENDED_PHASES: tuple[RoomPhase, ...] = ("finished", "closed")
Role = Literal["host", "screen", "player"]  # the audiences a room is shown to
Verdict = Literal["correct", "near", "wrong"]

MAX_MOMENTS = 30  # recent public moments kept for the screen's "Team X solved it!"
# The list of moments only grows until it holds twice that many, then drops
# all but the last MAX_MOMENTS at once: each moment reaches a view as one
# ``push``, and the whole list goes out again once every MAX_MOMENTS + 1
# moments. Cut by one at every moment, the list shifted, and every patch
# of every view re-sent all of it (~3 KB per story line, per view).
KEPT_MOMENTS = 2 * MAX_MOMENTS


@dataclass(slots=True)
class Player:
    id: str
    name: str
    team_id: str
    token_hash: str  # sha256 of the resume token; the token itself is never stored
    joined_at: float
    connections: int = 0  # live WebSocket connections, across every server process
    # The same, per server process: when a process dies without saying goodbye,
    # its share is taken away (rooms.drop_process) instead of counting forever.
    links: dict[str, int] = field(default_factory=dict)
    last_seen: float = 0.0  # when the last connection dropped
    points: int = 0  # this player's contribution to the team score
    # Coffee pairing's mentoring option: what the player said they are, in the lobby.
    mentoring_role: MentorRole | None = None
    # In a room of a circle: the circle member this player is (by their device
    # token), "" for none (``game/circles.py``).
    member: str = ""


@dataclass(slots=True)
class Team:
    id: str
    name: str
    score: int = 0
    last_scored_at: float = 0.0  # ties are broken by who reached the score first
    score_before_round_item: int = 0  # score when the current riddle/story started


@dataclass(slots=True)
class Guess:
    player_id: str
    text: str
    verdict: Verdict
    at: float  # absolute time of the guess
    elapsed: float = 0.0  # seconds of riddle time used when guessing (pauses excluded)
    nudge: str = ""
    option: int | None = None  # multiple choice: which option (0-based)
    accepted_by_host: bool = False


@dataclass(slots=True)
class TeamAttempt:
    """One team's work on the current riddle."""

    guesses: list[Guess] = field(default_factory=list)
    hints_opened: int = 0
    solved_at: float | None = None  # absolute time of the solving guess
    solved_elapsed: float | None = None  # riddle seconds used when solving
    solved_by: str | None = None
    points: int = 0  # points this riddle currently gives the team (already in Team.score)
    locked_out: bool = False  # multiple choice: the team's one answer was wrong


@dataclass(slots=True)
class RiddleState:
    round_index: int
    riddle_index: int
    stage: Literal["open", "revealed"]
    started_at: float
    deadline_at: float
    paused_remaining: float | None = None  # seconds left, while the host has paused
    extra_seconds: float = 0.0  # added by the host's "extend"
    teams: dict[str, TeamAttempt] = field(default_factory=dict)
    ended_at: float | None = None
    end_reason: str = ""  # "all_solved", "timeout", "host_reveal", "skipped", "finished"
    advance_at: float | None = None  # auto-advance: when the next riddle starts


@dataclass(slots=True)
class StoryLine:
    player_id: str
    text: str
    at: float
    hidden: bool = False  # hidden by the host (moderation)


@dataclass(slots=True)
class TeamStory:
    team_id: str
    prompt_index: int
    lines: list[StoryLine] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # rotation of player ids
    turn_player: str | None = None
    turn_index: int = 0  # how many turns have been taken or skipped
    turn_deadline_at: float | None = None
    turns_taken: dict[str, int] = field(
        default_factory=dict
    )  # player id -> turns written or skipped
    done: bool = False
    # Bumped whenever a written line changes (the host hides or shows it):
    # with ``len(lines)`` it says whether the lines are as a view last showed
    # them, without a pass over every line (``story_views.lines_view``).
    lines_edited: int = 0


@dataclass(slots=True)
class StoryState:
    round_index: int
    stage: Literal["writing", "reveal", "voting", "results"]
    started_at: float
    paused_remaining: dict[str, float] | None = None  # team id -> turn seconds left, while paused
    stories: dict[str, TeamStory] = field(default_factory=dict)
    reveal_index: int = -1
    votes: dict[str, str] = field(default_factory=dict)  # voter player id -> team id of the story
    vote_deadline_at: float | None = None
    vote_counts: dict[str, int] = field(default_factory=dict)  # filled when voting closes


@dataclass(slots=True)
class WhosWhoAnswer:
    """One answer a player gave to one of a "Who's who" round's prompts."""

    # Opaque and random ("Xq3v-9aZ"), never the room's counter: the host hides an
    # answer by it without learning whose it is, or when it came.
    id: str
    prompt: int  # index in the round's prompts
    text: str
    hidden: bool = False  # hidden by the host: never played


@dataclass(slots=True)
class WhosWhoEntry:
    """A player's answers in a "Who's who" round (none: they skipped)."""

    answers: list[WhosWhoAnswer] = field(default_factory=list)
    line: str = ""  # optional, shown beside their name at the reveal
    at: float = 0.0
    # The host hid one of their answers: new ones start hidden (``whoswho.answer``).
    held: bool = False


@dataclass(slots=True)
class WhosWhoQuestion:
    """One answer played as "Who wrote: ...?". The author is a secret until its reveal."""

    answer_id: str
    prompt: int
    text: str
    author: str  # player id
    author_name: str  # as when the question was drawn: the author may leave meanwhile
    author_team: str
    line: str = ""


@dataclass(slots=True)
class WhosWhoGuess:
    """A team's one choice at the current question (told right or wrong at the reveal)."""

    player_id: str  # who chose, for the team
    chosen: str  # the player id chosen
    at: float
    elapsed: float  # question seconds used
    correct: bool = False
    points: int = 0


@dataclass(slots=True)
class WhosWhoState:
    """A running "Who's who" round (``whoswho.py``).

    ``answering``: players answer privately; then ``open`` and ``revealed``
    for each of ``questions`` in turn. ``entries`` are stored one part per
    player (``w:<id>``), the rest as one part (``whoswho``).
    """

    round_index: int
    stage: Literal["answering", "open", "revealed"]
    started_at: float
    entries: dict[str, WhosWhoEntry] = field(default_factory=dict)  # player id -> answers
    # Kept with the entries, so that no view counts them: players in the room
    # who gave answers, who skipped (one who leaves while answers come in is
    # no longer counted), and a count of changes to the answers (the host's
    # review is built again only when it moves).
    answered: int = 0
    skipped: int = 0
    edits: int = 0
    questions: list[WhosWhoQuestion] = field(default_factory=list)
    index: int = -1  # the current question
    question_started_at: float = 0.0
    deadline_at: float = 0.0
    # The open question's clock, as a riddle's: seconds left while the host
    # has paused it, and seconds the host's "extend" added to it.
    paused_remaining: float | None = None
    extra_seconds: float = 0.0
    guesses: dict[str, WhosWhoGuess] = field(default_factory=dict)  # team id -> its choice
    ended_at: float | None = None
    end_reason: str = ""  # "all_answered", "timeout", "host_reveal"


@dataclass(slots=True)
class Moment:
    """A public happening the shared screen celebrates or the log shows."""

    seq: int
    kind: str
    at: float
    team_id: str = ""
    player_id: str = ""
    text: str = ""


@dataclass(slots=True)
class RiddleResult:
    """How one finished riddle went, for the results export."""

    round_index: int
    riddle_index: int
    points: dict[str, int] = field(default_factory=dict)  # team id -> points
    solved_elapsed: dict[str, float] = field(default_factory=dict)
    solved_by: dict[str, str] = field(default_factory=dict)
    end_reason: str = ""
    # A "Who's who" question: its answer and who wrote it (a riddle's text is the pack's),
    # and, for the session's keepsake (``keepsake.py``), the prompt it answered (an index
    # into the round's prompts), the author's team and the line they added for the reveal.
    text: str = ""
    author: str = ""
    prompt: int = -1
    author_team: str = ""
    line: str = ""
    # The author's player id: the circle's keepsake names the author by it, not by
    # name (a newcomer may have a name someone who left had). "" in results stored before.
    author_id: str = ""


@dataclass(slots=True)
class Pairings:
    """The session's coffee pairings (``coffee.py``): the running one and those that ended.

    ``past`` is what "no repeats" weighs: every group of the session's
    earlier rotations. Stored as one part of its own (``store/parts.py``),
    written only by the pairing commands, the rounds that end a pairing, and a
    player who leaves one (``coffee.player_left``).
    """

    current: Pairing | None = None
    prompt: str = ""  # the running pairing's conversation prompt, as the players read it
    mentoring: bool = False  # the running pairing preferred a newcomer with an experienced player
    past: list[Pairing] = field(default_factory=list)


@dataclass(slots=True, weakref_slot=True)  # weakly keyed: see rooms._index
class Room:
    code: str
    name: str
    host_token_hash: str
    created_at: float
    teams: list[Team] = field(default_factory=list)
    players: dict[str, Player] = field(default_factory=dict)
    phase: RoomPhase = "lobby"
    locked: bool = False
    pack_id: str | None = None
    round_index: int = -1
    riddle: RiddleState | None = None
    story: StoryState | None = None
    whoswho: WhosWhoState | None = None
    # Story rounds that have ended, in the order played (``room.story`` is the
    # running one): kept for the host's keepsake (``stories.md``).
    story_archive: list[StoryState] = field(default_factory=list)
    kicked_token_hashes: list[str] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    # Moments ever added (the next one's ordinal). ``moments[i]`` is moment
    # number ``moments_added - len(moments) + i``: the store keeps each moment
    # in a ring slot taken from that number (``store/parts.py``).
    moments_added: int = 0
    riddle_results: list[RiddleResult] = field(default_factory=list)
    story_points: dict[str, int] = field(default_factory=dict)  # team id -> points from votes
    pairings: Pairings = field(default_factory=Pairings)
    # Players with no connection whose grace period may not be over yet, by id,
    # with when it ends: the next presence deadline without a scan of every player.
    grace_ends: dict[str, float] = field(default_factory=dict)
    auto_advance: bool = False
    # The circle the room was opened in ("": none), and its name as then.
    circle: str = ""
    circle_name: str = ""
    max_players: int = DEFAULT_MAX_PLAYERS
    next_id: int = 1  # source of short ids for teams and players
    seq: int = 0  # bumped by every committed change; clients order updates by it

    def team(self, team_id: str) -> Team | None:
        for team in self.teams:
            if team.id == team_id:
                return team
        return None

    def team_players(self, team_id: str) -> list[Player]:
        return [p for p in self.players.values() if p.team_id == team_id]

    def new_id(self, prefix: str) -> str:
        value = f"{prefix}{self.next_id}"
        self.next_id += 1
        return value

    def add_moment(self, kind: str, now: float, **details: str) -> None:
        """Add a moment, keeping at least the last ``MAX_MOMENTS`` (the only way moments are added)."""
        self.moments.append(Moment(seq=self.seq + 1, kind=kind, at=now, **details))
        self.moments_added += 1
        if len(self.moments) > KEPT_MOMENTS:
            del self.moments[:-MAX_MOMENTS]
