"""The room part of one story line, without sockets: a diagnostic for S2's profile.

A room of 8 players in two teams writes stories of ``--lines`` lines in all;
each line is what the server does for it besides the network: the rule
(``stories.submit_line``) inside ``changes.tracking``, the parts it writes and
their notice, then one flush: a view per audience (host and each team's),
diffed against the last and encoded as a patch, and the players' ``you``
frames when their stamp changed. Prints CPU microseconds per line, best of
``--repeat`` runs (a diagnostic of how the work grows with a story, not an
issue target: S2 measures that against the reference, over sockets).

    .venv/bin/python bench/s2_line_cost.py --lines 16,100
    .venv/bin/python bench/s2_line_cost.py --lines 100 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ritrovo import protocol
from ritrovo.game import changes, patches, rooms, stories, views
from ritrovo.game.pack import Pack, StoryPrompt, StoryRound
from ritrovo.store import parts

ROUND = StoryRound(
    title="Office tales",
    prompts=tuple(StoryPrompt(opening=f"Opening {i}", theme="mystery") for i in range(4)),
    turns_per_player=100,
    seconds_per_turn=60,
    max_chars=200,
    visibility="full",
    vote_seconds=0,
)
PACK = Pack(id="p", title="P", language="en", rounds=(ROUND,))
T0 = 1_000_000.0


def game(lines: int) -> None:
    room = rooms.new_room("ABCD", "Offsite", "hosthash", T0 - 100, team_names=["A", "B"])
    for n in range(8):
        team = room.teams[n % 2].id
        player = rooms.join(room, name=f"P{n}", team_id=team, token_hash=f"t{n}", now=T0 - 100 + n)
        rooms.connect(room, player, T0 - 99)
    room.pack_id, room.phase, room.round_index = "p", "story", 0
    stories.start_round(room, ROUND, 0, T0)
    kept = views.Rows()
    held: dict[str, Any] = {}
    private: dict[str, tuple[object, ...]] = {}
    now = T0
    for k in range(lines):
        now += 1
        assert room.story is not None
        writer = room.story.stories[room.teams[k % 2].id].turn_player
        assert writer is not None
        with changes.tracking(room) as changed:
            stories.submit_line(room, ROUND, writer, f"Line {k}: the stapler moved again.", now)
        room.seq += 1
        written, gone = parts.changed_parts(room, changed)
        parts.decode_notice(parts.encode_notice(room.seq, written, gone, whole=False))
        kept.forget_gone(room)
        shared = views.Build(room, kept)
        keys: dict[str, tuple[Any, str | None]] = {"host": ("host", None)}
        for p in room.players.values():
            keys.setdefault(views.view_key(room, PACK, "player", p.id), ("player", p.id))
        for key, (role, player_id) in keys.items():
            view = views.build(room, PACK, now, role, player_id, shared=shared)
            old = held.get(key)
            if old is None:
                protocol.encode("state", seq=room.seq, state=view)
            else:
                ops = patches.diff(old, view)
                protocol.encode("patch", seq=room.seq, base=room.seq - 1, ops=ops)
            held[key] = view
        for p in room.players.values():
            stamp = views.private_stamp(room, p.id)
            if private.get(p.id) != stamp:
                private[p.id] = stamp
                protocol.encode("you", **views.private_view(room, p.id))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", default="16,100", help="lines per game, comma-separated")
    parser.add_argument("--games", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one size's games")
    args = parser.parse_args()
    for lines in [int(n) for n in args.lines.split(",")]:
        game(lines)  # warm
        best = float("inf")
        for _ in range(args.repeat):
            started = time.process_time()
            for _ in range(args.games):
                game(lines)
            best = min(best, (time.process_time() - started) / (args.games * lines))
        print(f"stories of {lines // 2} lines per team: {1e6 * best:.0f} us of CPU per line")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(lambda n=lines: [game(n) for _ in range(20)])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
