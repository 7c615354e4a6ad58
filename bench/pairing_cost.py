"""What coffee pairing and team mixing cost: milliseconds per call, in-process.

No server: ``ritrovo.game.pairing`` is pure, so this times the rules alone,
on rooms shaped like a large session (every figure includes indexing the
history, as every call does):

* ``pair``: P players in 20 teams, 20% newcomers and 20% experienced
  (mentoring on), the history of a circle's last 3 sessions (4 rotations
  each) plus this session's earlier rotations; rotation R of the session is
  timed, for several seeds (the host's "shuffle again");
* ``mix_teams``: P players into 20 teams, departments of 8, remembering the
  rosters of 5 past sessions;
* the repair's worst case: no fresh pairing exists and the search that
  proves it looks at everyone;
* rotations from a clean start: how many in a row are fresh (no pair met
  before), against the n - 1 of a full round robin and the n/2 guaranteed.

    .venv/bin/python bench/pairing_cost.py                  # 2,000 players, ~10 s
    .venv/bin/python bench/pairing_cost.py --players 200,1000,2000 --rotations 1,5,20
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence

from ritrovo.game import pairing

TEAMS = 20
DEPARTMENTS = 8


def people(n: int) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, str]]:
    rng = random.Random(n)
    ids = [f"p{i}" for i in range(n)]
    teams = {p: f"t{rng.randrange(TEAMS)}" for p in ids}
    roles: dict[str, str] = {}
    for p in ids:
        draw = rng.random()
        if draw < 0.2:
            roles[p] = "newcomer"
        elif draw < 0.4:
            roles[p] = "experienced"
    departments = {p: f"d{rng.randrange(DEPARTMENTS)}" for p in ids}
    return ids, teams, roles, departments


class RepairCounter:
    """Counts the calls that needed the exact repair (wraps the private step, bench only)."""

    def __init__(self) -> None:
        self.calls = 0
        self._repair = pairing._repair

        def counted(*args: object) -> object:
            self.calls += 1
            return self._repair(*args)  # type: ignore[arg-type]

        pairing._repair = counted  # type: ignore[assignment]


def time_pair(n: int, rotation: int, seeds: int, repairs: RepairCounter) -> dict[str, object]:
    ids, teams, roles, _ = people(n)
    history: list[Sequence[str]] = []
    for session in range(3):  # the circle's last 3 sessions, 4 rotations each
        for r in range(4):
            history.extend(pairing.pair(ids, history=history, teams=teams, seed=1000 * session + r))
    for r in range(1, rotation):  # this session's earlier rotations
        history.extend(pairing.pair(ids, history=history, teams=teams, roles=roles, seed=-r))
    timings: list[float] = []
    before = repairs.calls
    last: pairing.PairingCost | None = None
    for seed in range(seeds):
        start = time.perf_counter()
        groups = pairing.pair(ids, history=history, teams=teams, roles=roles, seed=seed)
        timings.append((time.perf_counter() - start) * 1000)
        last = pairing.pairing_cost(groups, history=history, teams=teams, roles=roles)
    assert last is not None
    return {
        "n": n,
        "rotation": rotation,
        "meetings": len(pairing.meetings(history)),
        "min_ms": min(timings),
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "repairs": repairs.calls - before,
        "cost": last,
    }


def time_mix(n: int, seeds: int) -> dict[str, object]:
    ids, _, _, departments = people(n)
    rng = random.Random(7)
    history: list[list[str]] = []
    for _ in range(5):  # 5 past sessions' rosters
        shuffled = ids[:]
        rng.shuffle(shuffled)
        history.extend(shuffled[t::TEAMS] for t in range(TEAMS))
    team_ids = [f"t{i}" for i in range(TEAMS)]
    timings: list[float] = []
    cost: pairing.TeamMixCost | None = None
    for seed in range(seeds):
        start = time.perf_counter()
        assignment = pairing.mix_teams(
            ids, team_ids, history=history, departments=departments, seed=seed
        )
        timings.append((time.perf_counter() - start) * 1000)
        cost = pairing.mix_cost(assignment, history=history, departments=departments)
    return {
        "n": n,
        "min_ms": min(timings),
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "cost": cost,
    }


def time_forced_repeat(n: int, seeds: int, repairs: RepairCounter) -> dict[str, object]:
    """The repair's worst case: two people who have met everyone but the same last one.

    No fresh pairing exists, so the repair runs and its search fails after
    looking at everyone.
    """
    ids = [f"p{i}" for i in range(n)]
    history = [[ids[0], x] for x in ids[1:-1]] + [[ids[1], x] for x in ids[2:-1]]
    timings: list[float] = []
    before = repairs.calls
    repeats = 0
    for seed in range(seeds):
        start = time.perf_counter()
        groups = pairing.pair(ids, history=history, teams={}, seed=seed)
        timings.append((time.perf_counter() - start) * 1000)
        repeats = pairing.pairing_cost(groups, history=history, teams={}).repeats
    return {
        "n": n,
        "min_ms": min(timings),
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "repairs": repairs.calls - before,
        "repeats": repeats,
    }


def fresh_rotations(n: int, seed: int) -> int:
    """Rotations in a row with no repeated pair, same n players, no other history."""
    ids = [f"p{i}" for i in range(n)]
    teams = {p: f"t{i % 4}" for i, p in enumerate(ids)}
    history: list[Sequence[str]] = []
    for rotation in range(n - 1):
        groups = pairing.pair(ids, history=history, teams=teams, seed=seed * 1000 + rotation)
        if pairing.pairing_cost(groups, history=history, teams=teams).repeats:
            return rotation
        history.extend(groups)
    return n - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", default="2000", help="comma-separated room sizes")
    parser.add_argument("--rotations", default="1,10", help="which rotation of the session")
    parser.add_argument("--seeds", type=int, default=15, help="timed calls per figure")
    parser.add_argument("--round-robin", default="10,20,50,100", help="sizes for the fresh run")
    args = parser.parse_args()
    sizes = [int(x) for x in args.players.split(",")]
    print(f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print("(min: the call's own cost; median and max also show what else runs on the machine)")
    print(f"WINDOW={pairing.WINDOW} PASSES={pairing.PASSES} SAMPLES={pairing.SAMPLES}\n")

    repairs = RepairCounter()
    print("pair(): 20 teams, 20% newcomers + 20% experienced, circle's last 3 sessions")
    print("| players | rotation | meetings remembered | ms: min / median / max | repairs | cost |")
    print("|---:|---:|---:|---|---:|---|")
    for n in sizes:
        for rotation in (int(x) for x in args.rotations.split(",")):
            row = time_pair(n, rotation, args.seeds, repairs)
            c = row["cost"]
            assert isinstance(c, pairing.PairingCost)
            print(
                f"| {n} | {rotation} | {row['meetings']} "
                f"| {row['min_ms']:.1f} / {row['median_ms']:.1f} / {row['max_ms']:.1f} "
                f"| {row['repairs']}/{args.seeds} "
                f"| repeats {c.repeats}, same team {c.same_team}, unmentored {c.unmentored} |"
            )

    print("\npair(), the repair's worst case: two people met all but the same one")
    print("| players | ms: min / median / max | repairs | repeats |")
    print("|---:|---|---:|---:|")
    for n in sizes:
        row = time_forced_repeat(n, max(3, args.seeds // 3), repairs)
        print(
            f"| {n} | {row['min_ms']:.1f} / {row['median_ms']:.1f} / {row['max_ms']:.1f} "
            f"| {row['repairs']}/{max(3, args.seeds // 3)} | {row['repeats']} |"
        )

    print("\nmix_teams(): 20 teams, 8 departments, rosters of 5 past sessions")
    print("| players | ms: min / median / max | cost |")
    print("|---:|---|---|")
    for n in sizes:
        row = time_mix(n, max(3, args.seeds // 3))
        c = row["cost"]
        assert isinstance(c, pairing.TeamMixCost)
        print(
            f"| {n} | {row['min_ms']:.1f} / {row['median_ms']:.1f} / {row['max_ms']:.1f} "
            f"| repeated team-mates {c.repeats}, same department {c.same_department} |"
        )

    print("\nfresh rotations in a row from a clean start (4 teams; 5 seeds)")
    print("| players | guaranteed (n/2) | full round robin (n-1) | achieved (min / median / max) |")
    print("|---:|---:|---:|---|")
    for n in (int(x) for x in args.round_robin.split(",")):
        got = [fresh_rotations(n, seed) for seed in range(5)]
        print(
            f"| {n} | {n // 2} | {n - 1} | {min(got)} / {statistics.median(got):g} / {max(got)} |"
        )


if __name__ == "__main__":
    main()
