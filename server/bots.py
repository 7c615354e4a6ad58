"""Rehearsal bots: ``ritrovo bots CODE --players N`` fills a room with simulated players.

A facilitator who wants to rehearse a pack alone opens the host page and the
shared screen, starts some bots, and runs the game: the bots join the room,
guess (sometimes right), open hints now and then, write story lines when it is
their turn and vote for other teams' stories, answer a "Who's who" round's
prompts (or skip) and choose a colleague for each of its questions, at a
human-like pace, so the screen moves as it would with a real team. In the
lobby some say whether they are new here or experienced (for the coffee
pairing's mentoring option); in a coffee pairing each reads its group from its
``you`` frame (who it is with, the breakout room) and says so in the log.

Fair play: bots see exactly what a player's screen shows. They do not know the
answers, so they guess plausible words: one of the options of a
multiple-choice riddle, words from the riddle and from the hints their team
opened, and a vocabulary of everyday answers. In a "Who's who" round they
choose a colleague at random (the author is a secret to them as to anyone). ``--cheat --pack-dir DIR`` is for
rehearsals only: the bots then look the room's pack up by its id in the local
pack library (the same ``puzzles/`` folder the server reads) and give the right
answer with probability ``--accuracy``, so the scoreboard fills up. Never point
a cheating bot at a real game.

Every bot uses the protocol client of ``ritrovo.client`` over a real WebSocket,
like a browser would; nothing here touches the server's internals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import ProtocolError, RitrovoClient, ws_url_of

BOT_NAMES = (
    "Ada", "Bruno", "Chiara", "Dario", "Elena", "Fabio", "Giulia", "Hugo", "Irene", "Jonas",
    "Katia", "Luca", "Marta", "Nico", "Olga", "Paolo", "Quinn", "Rita", "Sami", "Tina",
    "Ugo", "Vera", "Walt", "Xenia", "Yuri", "Zoe",
)  # fmt: skip

# Everyday answers: what a person guesses when nothing better comes to mind.
VOCABULARY = (
    "printer", "stapler", "keyboard", "mouse", "screen", "laptop", "coffee", "calendar", "meeting",
    "email", "phone", "chair", "desk", "clock", "window", "door", "key", "map", "book", "shadow",
    "time", "echo", "candle", "piano", "river", "cloud", "moon", "sun", "egg", "towel", "tab",
    "cursor", "password", "team", "minutes", "draft", "lift", "spreadsheet", "sticky note",
    "orologio", "ombra", "tempo", "libro", "chiave", "candela", "uovo", "pianoforte", "nuvola",
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "15", "24", "100",
)  # fmt: skip

STOPWORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "with",
        "without",
        "from",
        "into",
        "over",
        "under",
        "about",
        "your",
        "you",
        "they",
        "them",
        "their",
        "there",
        "here",
        "have",
        "has",
        "had",
        "been",
        "being",
        "were",
        "was",
        "are",
        "the",
        "and",
        "but",
        "not",
        "for",
        "can",
        "all",
        "every",
        "each",
        "when",
        "where",
        "while",
        "then",
        "than",
        "just",
        "only",
        "also",
        "more",
        "most",
        "very",
        "much",
        "many",
        "some",
        "any",
        "none",
        "always",
        "never",
        "still",
        "ever",
        "once",
        "make",
        "makes",
        "made",
        "like",
        "little",
        "long",
        "short",
        "last",
        "first",
        "next",
        "what's",
        "i'm",
        "it's",
        "don't",
        "can't",
        "won't",
        "whose",
        "does",
        "doing",
        "done",
        "come",
        "comes",
        "came",
        "goes",
        "went",
        "gone",
        "takes",
        "took",
        "cosa",
        "sono",
        "sempre",
        "quando",
        "dove",
        "come",
        "anche",
        "perché",
        "questa",
        "questo",
        "della",
        "delle",
        "degli",
        "nella",
        "niente",
        "ogni",
        "senza",
        "sopra",
        "sotto",
        "mentre",
        "molto",
    ]
)

LINE_OPENERS = (
    "Suddenly,", "Meanwhile,", "Nobody expected that", "Right then,", "Without a word,",
    "To everyone's surprise,", "After a long pause,", "Just before lunch,", "In the next meeting,",
)  # fmt: skip
LINE_SUBJECTS = (
    "the intern", "the printer", "our manager", "a mysterious courier", "the coffee machine",
    "Dana's cat", "the whole team", "the quiet colleague from accounting", "a pigeon on the sill",
)  # fmt: skip
LINE_ACTIONS = (
    "whispered a secret about the {w}", "found a {w} hidden under the desk",
    "declared the {w} an official team mascot", "scheduled an urgent meeting about the {w}",
    "replied-all with a photo of the {w}", "started a support group for the {w}",
    "traded the {w} for a second monitor", "insisted the {w} had been there all along",
)  # fmt: skip
# A bot's "Who's who" answers: harmless facts any prompt can take.
BOT_FACTS = (
    "A small island with one bakery", "Juggling three oranges", "Washing dishes in a pizzeria",
    "How to fold a paper crane", "Collecting old train tickets", "A road trip with no map",
    "Whistling with two fingers", "Teaching my grandmother to use video calls",
)  # fmt: skip
FILLER_WORDS = (
    "stapler",
    "moon",
    "spreadsheet",
    "pineapple",
    "agenda",
    "compass",
    "biscuit",
    "umbrella",
)

_WORD = re.compile(r"[^\W\d_][\w'-]{3,}", re.UNICODE)


@dataclass
class BotOptions:
    url: str = "http://127.0.0.1:8080"
    code: str = ""
    players: int = 4
    accuracy: float = 0.3
    cheat: bool = False
    pack_dir: Path | None = None
    speed: float = 1.0  # 2.0 = think twice as fast; tests use a large value
    think: float = 8.0  # mean seconds before a bot's first guess on a riddle
    max_guesses: int = 4  # per bot and riddle
    hint_chance: float = 0.25  # chance to open an unlocked hint at each chance
    seed: int | None = None
    stay: bool = False  # keep playing after the game finishes (the host may pick another pack)
    max_seconds: float = 4 * 3600.0  # the bots leave after this, whatever happens
    team: str | None = None  # join this team id (default: the server balances teams)
    mentoring: float = 0.5  # chance a bot says, in the lobby, it is a newcomer or experienced
    name_prefix: str = "Bot "
    verbose: bool = True


@dataclass
class BotStats:
    joined: int = 0
    guesses: int = 0
    correct: int = 0
    near: int = 0
    hints: int = 0
    lines: int = 0
    votes: int = 0
    answers: int = 0  # "Who's who" answers given
    choices: int = 0  # "Who's who" questions answered for the team
    roles: int = 0  # mentoring roles said in the lobby
    pairings: int = 0  # coffee pairing groups the bots found themselves in
    refused: int = 0  # requests the server refused (too late, rate limited, ...)
    errors: dict[str, int] = field(default_factory=dict)
    finished: bool = False  # the game reached "finished"
    # Set whenever a count moves (``until``).
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    def refuse(self, code: str) -> None:
        self.refused += 1
        self.errors[code] = self.errors.get(code, 0) + 1

    def count(self, name: str) -> None:
        """One more of the count ``name`` (``roles``, ``pairings``)."""
        setattr(self, name, getattr(self, name) + 1)
        self.changed.set()

    async def until(self, check: Callable[[BotStats], bool], timeout: float) -> None:
        """Wait until ``check(self)`` holds, for those watching a run (tests); TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout):
            while not check(self):
                self.changed.clear()
                await self.changed.wait()

    def summary(self) -> str:
        return (
            f"{self.joined} bots: {self.guesses} guesses ({self.correct} right, {self.near} near), "
            f"{self.hints} hints, {self.lines} story lines, {self.votes} votes, "
            f"{self.answers} Who's who answers, {self.choices} Who's who choices, "
            f"{self.roles} mentoring roles, {self.pairings} coffee pairings, "
            f"{self.refused} refused" + (" - game finished" if self.finished else "")
        )


class AnswerBook:
    """Rehearsal only: the answers of the room's pack, from the local pack library."""

    def __init__(self, pack_dir: Path) -> None:
        from .packs import PackLibrary

        self.library = PackLibrary(pack_dir, log_errors=False)

    def answers(self, pack_id: str | None, round_index: int, riddle_index: int) -> tuple[str, ...]:
        from .game.pack import RiddleRound

        pack = self.library.get(pack_id) if pack_id else None
        if pack is None or not 0 <= round_index < len(pack.rounds):
            return ()
        rnd = pack.rounds[round_index]
        if not isinstance(rnd, RiddleRound) or not 0 <= riddle_index < len(rnd.riddles):
            return ()
        return rnd.riddles[riddle_index].answers


def plausible_words(riddle: dict[str, Any]) -> list[str]:
    """Words a player might try: the riddle's own nouns, opened hints, everyday answers."""
    texts = [str(riddle.get("text", ""))] + [
        str(h["text"]) for h in riddle.get("hints", []) if isinstance(h, dict) and h.get("text")
    ]
    found: list[str] = []
    for text in texts:
        for word in _WORD.findall(text):
            w = word.lower().strip("'-")
            if len(w) >= 4 and w not in STOPWORDS and w not in found:
                found.append(w)
    return found + [w for w in VOCABULARY if w not in found]


def story_line(rng: random.Random, prompt: dict[str, Any] | None, max_chars: int) -> str:
    words = [w for w in (prompt or {}).get("must_include", []) if isinstance(w, str)]
    word = rng.choice(words) if words and rng.random() < 0.7 else rng.choice(FILLER_WORDS)
    line = f"{rng.choice(LINE_OPENERS)} {rng.choice(LINE_SUBJECTS)} {rng.choice(LINE_ACTIONS).format(w=word)}."
    return line[: max(1, max_chars)]


class Bot:
    def __init__(
        self,
        index: int,
        opts: BotOptions,
        stats: BotStats,
        rng: random.Random,
        book: AnswerBook | None,
    ) -> None:
        self.index = index
        self.opts = opts
        self.stats = stats
        self.rng = rng
        self.book = book
        self.client: RitrovoClient | None = None
        self.name = ""
        self.token: str | None = None
        self.player_id: str | None = None
        self.plans: dict[tuple[Any, ...], float] = {}  # situation -> when to act
        self.done_for: set[tuple[Any, ...]] = set()  # situations this bot is finished with
        self.guessed: dict[tuple[Any, ...], int] = {}
        self.tried: dict[tuple[Any, ...], set[str]] = {}

    # -- plumbing ---------------------------------------------------------

    def log(self, text: str) -> None:
        if self.opts.verbose:
            print(f"[{time.strftime('%H:%M:%S')}] {self.name}: {text}", flush=True)

    def delay(self, mean: float) -> float:
        """A human-ish pause (exponential around ``mean`` seconds, scaled by speed)."""
        return min(mean * 4, self.rng.expovariate(1.0 / mean)) / max(self.opts.speed, 1e-6) + 0.01

    async def join(self, url: str) -> None:
        for attempt in range(20):
            name = self.opts.name_prefix + BOT_NAMES[self.index % len(BOT_NAMES)]
            if self.index >= len(BOT_NAMES):
                name += f" {self.index // len(BOT_NAMES) + 1}"
            if attempt:  # a person (or another bot run) has this name already
                name += f" #{attempt + 1}"
            name = name[:32]
            client = await RitrovoClient.connect(url, keep_messages=False)
            try:
                fields: dict[str, Any] = {"room": self.opts.code, "name": name}
                if self.opts.team:
                    fields["team"] = self.opts.team
                welcome = await client.hello("join", timeout=15.0, **fields)
            except ProtocolError as exc:
                await client.close()
                if exc.code == "name_taken":
                    continue
                raise
            self.client, self.name = client, name
            self.token = welcome.get("token")
            self.player_id = welcome["player"]["id"]
            self.stats.joined += 1
            self.log(f"joined team {welcome['player']['team_id']}")
            return
        raise RuntimeError("could not find a free bot name")

    async def rejoin(self, url: str) -> bool:
        """After a dropped connection (server restart), come back with the resume token."""
        for attempt in range(5):
            await asyncio.sleep(min(5.0, 0.5 * 2**attempt))
            try:
                client = await RitrovoClient.connect(url, keep_messages=False)
            except OSError:
                continue
            try:
                await client.hello("rejoin", timeout=15.0, room=self.opts.code, token=self.token)
            except ProtocolError:
                await client.close()
                return False
            except (TimeoutError, ConnectionError):
                await client.close()
                continue
            self.client = client
            self.log("back after a dropped connection")
            return True
        return False

    async def ask(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        assert self.client is not None
        try:
            return await self.client.request(kind, timeout=15.0, **fields)
        except ProtocolError as exc:
            self.stats.refuse(exc.code)
            return None

    # -- playing ----------------------------------------------------------

    async def play(self, url: str, stop: asyncio.Event) -> None:
        started = time.monotonic()
        while not stop.is_set():
            client = self.client
            assert client is not None
            if client.closed.done():
                code, _ = client.closed.result()
                if (
                    code in (4000, 4001, 4004, 1000)
                    or self.token is None
                    or not await self.rejoin(url)
                ):
                    self.log(f"connection closed ({code}); leaving")
                    return
                continue
            wake = await self.step()
            if wake is None:
                return
            if time.monotonic() - started > self.opts.max_seconds:
                self.log("time is up; leaving")
                return
            await client.wait_change(min(wake, 1.0))

    async def step(self) -> float | None:
        """Act if something is due; return seconds until the next check (None: leave)."""
        client = self.client
        assert client is not None
        if client.state is None:
            return 0.5
        state = client.state["state"]
        now = time.monotonic()
        phase = state.get("phase")
        if phase == "finished":
            self.stats.finished = True
            if not self.opts.stay:
                return None
        if phase == "closed":
            return None
        self._pairing(client.you)
        if phase == "lobby":
            return await self._lobby()
        if phase == "riddle" and state.get("riddle"):
            return await self._riddle(state, state["riddle"], now)
        if phase == "story" and state.get("story"):
            return await self._story(state, state["story"], now)
        if phase == "whoswho" and state.get("whoswho"):
            return await self._whoswho(state, state["whoswho"], now)
        return 1.0

    def _plan(self, key: tuple[Any, ...], mean: float, now: float) -> float:
        """When the action for ``key`` is due (planned once, on first sight)."""
        if key not in self.plans:
            self.plans[key] = now + self.delay(mean)
        return self.plans[key]

    async def _riddle(self, state: dict[str, Any], riddle: dict[str, Any], now: float) -> float:
        key = ("riddle", riddle["round_index"], riddle["index"])
        team = riddle.get("team") or {}
        if (
            riddle.get("stage") != "open"
            or riddle.get("paused")
            or team.get("solved")
            or team.get("locked_out")
        ):
            return 1.0
        wait = 1.0
        # Hints: sometimes, when one is unlocked and the team has not opened it yet.
        opened = int(team.get("hints_opened", 0))
        unlocked = sum(1 for h in riddle.get("hints", []) if h.get("unlocked"))
        if opened < unlocked:
            hint_key = key + ("hint", opened)
            if hint_key not in self.done_for:
                due = self._plan(hint_key, self.opts.think / 2, now)
                if now >= due:
                    self.done_for.add(hint_key)
                    if (
                        self.rng.random() < self.opts.hint_chance
                        and await self.ask("hint") is not None
                    ):
                        self.stats.hints += 1
                        self.log(f"opened hint {opened + 1}")
                else:
                    wait = min(wait, due - now)
        if key in self.done_for:
            return wait
        due = self._plan(key + ("guess", self.guessed.get(key, 0)), self.opts.think, now)
        if now < due:
            return min(wait, due - now)
        text = self._guess_text(state, riddle, key)
        self.guessed[key] = self.guessed.get(key, 0) + 1
        if self.guessed[key] >= self.opts.max_guesses:
            self.done_for.add(key)
        reply = await self.ask("guess", text=text)
        if reply is None:
            return wait
        self.stats.guesses += 1
        verdict = (reply.get("result") or {}).get("verdict")
        if verdict == "correct":
            self.stats.correct += 1
            self.done_for.add(key)
        elif verdict == "near":
            self.stats.near += 1
        self.log(f"guessed {text!r}: {verdict}")
        return 0.05

    def _guess_text(
        self, state: dict[str, Any], riddle: dict[str, Any], key: tuple[Any, ...]
    ) -> str:
        tried = self.tried.setdefault(key, set())
        # What the team already tried is on the player's screen too.
        tried.update(
            str(g.get("text", "")).lower() for g in (riddle.get("team") or {}).get("guesses", [])
        )
        options = [str(o) for o in riddle.get("options", [])]
        if self.book is not None and self.opts.cheat and self.rng.random() < self.opts.accuracy:
            pack_id = (state.get("pack") or {}).get("id")
            answers = self.book.answers(pack_id, riddle["round_index"], riddle["index"])
            if answers:
                choice = self.rng.choice(answers)
                tried.add(choice.lower())
                return choice
        if options:
            pool = [o for o in options if o.lower() not in tried] or options
        else:
            words = plausible_words(riddle)
            pool = [w for w in words[:40] if w not in tried] or words
        choice = self.rng.choice(pool)
        tried.add(choice.lower())
        return choice

    async def _story(self, state: dict[str, Any], story: dict[str, Any], now: float) -> float:
        client = self.client
        assert client is not None
        stage = story.get("stage")
        rnd = story.get("round_index")
        you = client.you or {}
        if stage == "writing":
            turn = you.get("your_turn")
            if not turn or turn.get("paused") or story.get("paused"):
                return 1.0
            entry = story.get("teams", {}).get(turn.get("team_id"), {})
            key: tuple[Any, ...] = ("line", rnd, entry.get("turns_done"))
            if key in self.done_for:
                return 1.0
            due = self._plan(key, self.opts.think / 2, now)
            if now < due:
                return due - now
            self.done_for.add(key)
            text = story_line(self.rng, entry.get("prompt"), int(story.get("max_chars", 160)))
            if await self.ask("line", text=text) is not None:
                self.stats.lines += 1
                self.log(f"wrote: {text}")
            return 0.2
        if stage == "voting" and you.get("my_vote") is None:
            key = ("vote", rnd)
            if key in self.done_for:
                return 1.0
            due = self._plan(key, self.opts.think / 2, now)
            if now < due:
                return due - now
            self.done_for.add(key)
            mine = self._team_id(state)
            choices = []
            for tid, entry in story.get("teams", {}).items():
                writers = {w.get("id") for w in entry.get("writers", []) if isinstance(w, dict)}
                if tid != mine and self.player_id not in writers:
                    choices.append(tid)
            self.rng.shuffle(choices)
            for tid in choices:
                if await self.ask("vote", team=tid) is not None:
                    self.stats.votes += 1
                    self.log(f"voted for the story of team {tid}")
                    break
            return 1.0
        return 1.0

    async def _whoswho(self, state: dict[str, Any], ww: dict[str, Any], now: float) -> float:
        """Answer one or two prompts (now and then skip), then choose someone for each question."""
        client = self.client
        assert client is not None
        mine = (client.you or {}).get("whoswho") or {}
        rnd = ww.get("round_index")
        if ww.get("stage") == "answering":
            key: tuple[Any, ...] = ("ww-answer", rnd)
            if key in self.done_for or mine.get("answered"):
                return 1.0
            due = self._plan(key, self.opts.think / 2, now)
            if now < due:
                return due - now
            self.done_for.add(key)
            prompts = list(range(len(ww.get("prompts", []))))
            count = 0 if self.rng.random() < 0.15 else self.rng.randint(1, int(ww["max_answers"]))
            chosen = self.rng.sample(prompts, min(count, len(prompts)))
            answers = [{"prompt": p, "text": self.rng.choice(BOT_FACTS)} for p in chosen]
            if await self.ask("whoswho_answer", answers=answers) is not None:
                self.stats.answers += len(answers)
                self.log(f"answered {len(answers)} Who's who prompts" if answers else "skipped")
            return 1.0
        question = ww.get("question") or {}
        if ww.get("stage") != "open" or question.get("team") or mine.get("own_question"):
            return 1.0
        key = ("ww-choose", rnd, question.get("index"))
        if key in self.done_for:
            return 1.0
        due = self._plan(key, self.opts.think, now)
        if now < due:
            return due - now
        self.done_for.add(key)
        people = [
            p["id"]
            for team in state.get("teams", [])
            for p in team.get("players", [])
            if p.get("id") != self.player_id
        ]
        if people:
            person = self.rng.choice(people)
            if await self.ask("whoswho_choose", player=person) is not None:
                self.stats.choices += 1
                self.log(f"chose {person} for question {int(question.get('index', 0)) + 1}")
        return 1.0

    async def _lobby(self) -> float:
        """Once per bot: now and then, say whether it is new here or experienced."""
        key = ("mentoring",)
        if key in self.done_for:
            return 1.0
        self.done_for.add(key)
        if self.rng.random() < self.opts.mentoring:
            role = self.rng.choice(("newcomer", "experienced"))
            if await self.ask("set_mentoring_role", role=role) is not None:
                self.stats.count("roles")
                self.log(f"said they are {'new here' if role == 'newcomer' else 'experienced'}")
        return 1.0

    def _pairing(self, you: dict[str, Any] | None) -> None:
        """A coffee pairing: the bot's own group is in its ``you`` frame (none: not in one)."""
        group = (you or {}).get("pairing")
        if not isinstance(group, dict):
            return
        key = ("pairing", group.get("rotation"), group.get("started_at"))
        if key in self.done_for:
            return
        self.done_for.add(key)
        self.stats.count("pairings")
        mates = [str(m.get("name", "?")) for m in group.get("with", []) if isinstance(m, dict)]
        self.log(
            f"coffee with {', '.join(mates) or 'nobody'} in breakout room {group.get('breakout')}"
        )

    def _team_id(self, state: dict[str, Any]) -> str | None:
        for team in state.get("teams", []):
            for p in team.get("players", []):
                if p.get("id") == self.player_id:
                    return str(team["id"])
        you = (self.client.you if self.client else None) or {}
        return (you.get("player") or {}).get("team_id")


async def run_bots(
    opts: BotOptions, stop: asyncio.Event | None = None, stats: BotStats | None = None
) -> BotStats:
    """Join ``opts.players`` bots to the room and play until the game ends (or ``stop``).

    ``stats``: where to count what the bots do (by default a new one), returned.
    """
    if opts.cheat and opts.pack_dir is None:
        raise ValueError(
            "--cheat needs --pack-dir: the bots read the answers from the local pack files"
        )
    stop = stop or asyncio.Event()
    rng = random.Random(opts.seed)
    stats = stats if stats is not None else BotStats()
    book = AnswerBook(opts.pack_dir) if opts.cheat and opts.pack_dir is not None else None
    url = ws_url_of(opts.url)
    bots = [Bot(i, opts, stats, random.Random(rng.random()), book) for i in range(opts.players)]
    joined: list[Bot] = []
    try:
        for bot in bots:  # one at a time: the screen shows them arriving
            await bot.join(url)
            joined.append(bot)
        tasks = [
            asyncio.create_task(bot.play(url, stop), name=f"bot-{bot.index}") for bot in joined
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    finally:
        for bot in joined:
            if bot.client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(bot.client.close(), 5.0)
    return stats


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ritrovo bots",
        description=(
            "Rehearsal bots: join N simulated players to a room and play along "
            "(guesses, hints, story lines, votes, Who's who answers and choices), so a "
            "facilitator can rehearse a pack alone."
        ),
    )
    parser.add_argument("code", help="the room code")
    parser.add_argument("--players", "-n", type=int, default=6, help="how many bots (default 6)")
    parser.add_argument(
        "--url", default="http://127.0.0.1:8080", help="the server (default http://127.0.0.1:8080)"
    )
    parser.add_argument(
        "--accuracy", type=float, default=0.3,
        help="with --cheat: chance that a guess is right (default 0.3); without it bots only guess plausible words",
    )  # fmt: skip
    parser.add_argument(
        "--cheat", action="store_true",
        help="REHEARSAL ONLY: read the answers from the local pack files (needs --pack-dir)",
    )  # fmt: skip
    parser.add_argument(
        "--pack-dir", type=Path, help="folder of pack files for --cheat (e.g. puzzles/)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="think faster (2 = twice as fast; default 1)"
    )
    parser.add_argument(
        "--think", type=float, default=8.0, help="mean seconds before a first guess (default 8)"
    )
    parser.add_argument("--team", help="join this team id instead of the smallest team")
    parser.add_argument(
        "--mentoring", type=float, default=0.5,
        help="chance a bot says in the lobby it is new here or experienced, for mentoring pairs (default 0.5)",
    )  # fmt: skip
    parser.add_argument("--stay", action="store_true", help="keep playing after the game finishes")
    parser.add_argument(
        "--max-minutes", type=float, default=240.0, help="leave after this long (default 240)"
    )
    parser.add_argument("--seed", type=int, help="random seed, for a repeatable rehearsal")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    return parser


def options_from_args(argv: list[str]) -> BotOptions:
    args = build_parser().parse_args(argv)
    if args.players < 1 or args.players > 500:
        raise SystemExit("ritrovo bots: --players must be from 1 to 500")
    if not 0.0 <= args.accuracy <= 1.0:
        raise SystemExit("ritrovo bots: --accuracy must be from 0 to 1")
    if args.cheat and args.pack_dir is None:
        raise SystemExit(
            "ritrovo bots: --cheat needs --pack-dir (the folder of pack files, e.g. puzzles/)"
        )
    if not 0.0 <= args.mentoring <= 1.0:
        raise SystemExit("ritrovo bots: --mentoring must be from 0 to 1")
    if args.speed <= 0 or args.think <= 0:
        raise SystemExit("ritrovo bots: --speed and --think must be positive")
    return BotOptions(
        url=args.url,
        code=args.code,
        players=args.players,
        accuracy=args.accuracy,
        cheat=args.cheat,
        pack_dir=args.pack_dir,
        speed=args.speed,
        think=args.think,
        team=args.team,
        mentoring=args.mentoring,
        stay=args.stay,
        max_seconds=args.max_minutes * 60.0,
        seed=args.seed,
        verbose=not args.quiet,
    )


async def _main(opts: BotOptions) -> BotStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return await run_bots(opts, stop)


def bots_command(argv: list[str]) -> int:
    opts = options_from_args(argv)
    if opts.cheat:
        print(
            "ritrovo bots: --cheat: bots read the answers from the pack files (rehearsal only)",
            file=sys.stderr,
        )
    try:
        stats = asyncio.run(_main(opts))
    except ProtocolError as exc:
        print(f"ritrovo bots: the server refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ritrovo bots: cannot reach {opts.url}: {exc}", file=sys.stderr)
        return 1
    print(stats.summary())
    return 0
