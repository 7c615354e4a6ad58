"""Coffee pairing and team mixing: who talks with whom, as pure rules.

``pair`` splits the present players into pairs (one trio when their number
is odd) for a "virtual coffee" rotation; ``mix_teams`` deals players into
teams for a new game. Both are handed everything they weigh (who has met
whom, teams, roles, departments) and a ``seed``: the same inputs and seed
give the same answer on every process (the host's "shuffle again" is another
seed), and neither reads the clock, the room or the store. ``Pairing`` is the
plain data a room keeps of one rotation.

What ``pair`` prefers, most important first (each tier outweighs any number
of the next; the weights are powers of two far apart):

1. **No repeats**: two people in a group who have met before (``history``:
   the groups of this session's earlier rotations and, in a circle, of its
   last N sessions; a trio is three meetings).
2. **Across teams**: two people of the same team in a group.
3. **Mentoring** (only when ``roles`` is given): a newcomer in a group with
   no experienced player.

The algorithm, for n players, h remembered meetings touching them:

* index the history (O(h)); shuffle the players with ``random.Random(seed)``
  after sorting them, so that the input order does not matter;
* greedy: the first unpaired player takes the cheapest of the next
  ``WINDOW`` unpaired ones (with mentoring, a newcomer first looks at the
  next ``WINDOW`` unpaired experienced players), stopping at a free
  partner; with an odd count the last one joins the group where they cost
  least (O(n * WINDOW));
* improvement: at most ``PASSES`` passes over the groups that still cost
  something; each tries ``SAMPLES`` random other groups and keeps the best
  swap of one member (or, for the trio, the move of one member) that lowers
  the cost of the two groups (O(PASSES * n * SAMPLES), far less in
  practice: only costly groups are visited);
* repair, only if a repeat is left: Edmonds' blossom algorithm on the
  graph of people who have **not** met, started from the fresh pairs found
  so far, grows the fresh matching until it is perfect (near-perfect for an
  odd count) or a search fails; the improvement passes run again on the
  result, and the cheaper of the two splits is kept (a pass never adds a
  repeat: every accepted move lowers the cost, and one repeat outweighs
  everything else). The unmet graph is never built: a search enumerates
  the people not met as it goes, and ends at once when, as usual, a
  neighbour is free. A search that fails looks at everyone (O(n^2)); there
  is at most one per call (two for an odd count), see ``_repair``.

``bench/pairing_cost.py`` measures it: at 2,000 players in 20 teams with
mentoring and 12,000 to 41,000 remembered meetings, 21 to 31 ms a call (the
fastest of 20; medians 45 to 50 ms on a 2-core machine that another
benchmark kept busy); indexing the history is about a third of it. The
repair's worst case, two people who have met everyone but the same last
one (no fresh pairing exists, and the search that finds out looks at
everyone), takes 39 ms (median 54).

What is guaranteed about repeats (``tests/game/test_pairing.py`` checks each
against a brute-force search on small rooms):

* **Even n**: if the players can all be paired with someone they have not
  met (a fresh perfect matching exists), no pair repeats. The repair makes
  this exact: its searches fail only when no fresh perfect matching exists.
* **Hence, rotations**: the same n players (n even) rotating with no other
  history get at least n/2 fresh rotations: before rotation k everyone has
  n - k unmet people, and for k <= n/2 that is at least n/2, so the unmet
  graph has a Hamiltonian cycle (Dirac's theorem) and so a perfect
  matching. Every later rotation is fresh whenever a fresh pairing exists.
  A full round robin (n - 1 fresh rotations) is not promised: a rotation is
  chosen without looking ahead, and six players can be paired freshly three
  times so that the pairs left unmet are two triangles, which cannot be
  paired. From a clean start the bench counts 17 of 19 possible fresh
  rotations for 20 players and 91 to 95 of 99 for 100.
* **Odd n**: if all but one can be paired freshly (a fresh near-perfect
  matching exists), at most two meetings repeat (the one left joins the
  pair where they repeat least). A totally fresh split is found when the
  passes find it (in 96% of the small rooms where one exists, in a
  brute-force check), not promised.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import BadRequest, Conflict, ErrorCode

MentorRole = Literal["newcomer", "experienced"]
Language = Literal["en", "it"]

WINDOW = 8  # unpaired candidates the greedy looks at per player
PASSES = 4  # improvement passes over the groups that still cost something
SAMPLES = 12  # other groups tried per costly group and pass

# Costs: each tier outweighs any sum of the tiers below it in a move (a move
# changes at most two groups, so at most 6 meetings and 5 newcomers).
REPEAT = 1 << 40
SAME_TEAM = 1 << 20
UNMENTORED = 1

MIN_SECONDS = 15.0
MAX_SECONDS = 3600.0

_NO_TEAM = -1
_NEWCOMER = 1
_EXPERIENCED = 2


@dataclass(slots=True)
class Pairing:
    """One rotation of coffee pairing, as a room keeps it (plain JSON-able data).

    ``groups[i]`` is breakout room ``i + 1``: player ids, pairs and at most
    one trio as drawn. Once a player leaves mid-rotation (``regroup``) a
    group may be larger (the one left alone joined it) or empty (its
    breakout room stands empty: the numbers people were given never shift).
    The timer is a stored deadline: ``started_at + seconds``.
    """

    rotation: int  # 1 for the session's first pairing
    groups: list[list[str]]
    prompt_index: int  # the conversation prompt, an index into the pack's prompts
    started_at: float
    seconds: float
    seed: int  # the seed it was drawn with ("shuffle again" draws with another)

    @property
    def deadline_at(self) -> float:
        return self.started_at + self.seconds

    def group_of(self, player_id: str) -> int | None:
        """The index of the group ``player_id`` is in, or None."""
        for index, group in enumerate(self.groups):
            if player_id in group:
                return index
        return None


@dataclass(slots=True, frozen=True)
class PairingCost:
    """How a split measures against the preferences, tier by tier (lower is better)."""

    repeats: int  # meetings (two people in one group) that happened before
    same_team: int  # meetings within one team
    unmentored: int  # newcomers in a group with no experienced player (0 without roles)


@dataclass(slots=True, frozen=True)
class TeamMixCost:
    """How a team assignment measures: repeated team-mates, then same-department team-mates."""

    repeats: int  # team-mate pairs that already played on a team together (per time)
    same_department: int  # team-mate pairs of one department


def meetings(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    """Every pair of people who were in one group, each as a sorted tuple."""
    met: set[tuple[str, str]] = set()
    for group in groups:
        members = sorted(set(group))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                met.add((a, b))
    return met


def recent_groups(sessions: Sequence[Iterable[Sequence[str]]], last: int) -> list[Sequence[str]]:
    """The groups of a circle's ``last`` sessions (``sessions`` oldest first), for ``history``."""
    if isinstance(last, bool) or not isinstance(last, int) or last < 0:
        raise BadRequest("last must be a whole number, 0 or more", code=ErrorCode.INVALID_FIELD)
    chosen = sessions[max(0, len(sessions) - last) :] if last else []
    return [group for session in chosen for group in session]


def session_groups(pairings: Iterable[Pairing]) -> list[list[str]]:
    """The groups of a session's rotations so far, for the next rotation's ``history``."""
    return [group for pairing in pairings for group in pairing.groups]


def choose_prompt(prompt_count: int, used: Collection[int], seed: int) -> int:
    """A conversation prompt index, one not used yet in the session while any is left."""
    if prompt_count <= 0:
        raise Conflict("the pairing round has no prompts", code=ErrorCode.NO_PROMPTS)
    _check_seed(seed)
    fresh = [i for i in range(prompt_count) if i not in used]
    return random.Random(seed).choice(fresh or range(prompt_count))


def start_pairing(
    players: Sequence[str],
    *,
    history: Iterable[Sequence[str]],
    teams: Mapping[str, str],
    roles: Mapping[str, str] | None = None,
    seed: int,
    rotation: int,
    prompt_index: int,
    seconds: object,
    now: float,
) -> Pairing:
    """A new rotation: ``pair`` the players and wrap the groups with prompt and timer.

    Refuses (before computing anything) what ``pair`` refuses, and seconds
    that are not a number from ``MIN_SECONDS`` to ``MAX_SECONDS``.
    """
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not MIN_SECONDS <= seconds <= MAX_SECONDS
    ):
        raise BadRequest(
            f"seconds must be a number from {MIN_SECONDS:g} to {MAX_SECONDS:g}",
            code=ErrorCode.INVALID_FIELD,
        )
    groups = pair(players, history=history, teams=teams, roles=roles, seed=seed)
    return Pairing(
        rotation=rotation,
        groups=[list(g) for g in groups],
        prompt_index=prompt_index,
        started_at=now,
        seconds=float(seconds),
        seed=seed,
    )


def regroup(
    groups: Sequence[Sequence[str]],
    gone: str,
    *,
    history: Iterable[Sequence[str]],
    teams: Mapping[str, str],
) -> list[list[str]] | None:
    """The groups of a running rotation after ``gone`` left it; None if they were in none.

    ``gone`` is taken out of their group. If that leaves one person alone,
    they join another group with someone in it rather than wait for the
    next rotation: the smallest (a pair before a trio), then the one where
    they repeat fewest meetings of ``history``, then the one with fewest of
    their team (``teams``), then the lowest breakout room. Their own group
    stays in its place, empty, so that nobody else's breakout room number
    changes. With nobody else in the rotation they stay alone. O(players).
    """
    at = next((gi for gi, group in enumerate(groups) if gone in group), None)
    if at is None:
        return None
    regrouped = [list(group) for group in groups]
    regrouped[at].remove(gone)
    if len(regrouped[at]) != 1:
        return regrouped
    lone = regrouped[at][0]
    met = {other for a, b in meetings(g for g in history if lone in g) for other in (a, b)}
    team = teams.get(lone)

    def cost(gi: int) -> tuple[int, int, int, int]:
        group = regrouped[gi]
        repeats = sum(pid in met for pid in group)
        same_team = sum(team is not None and teams.get(pid) == team for pid in group)
        return (len(group), repeats, same_team, gi)

    others = [gi for gi, group in enumerate(regrouped) if gi != at and group]
    if not others:
        return regrouped  # nobody else is in the rotation: they stay alone
    chosen = min(others, key=cost)
    regrouped[chosen].append(lone)
    regrouped[at] = []
    return regrouped


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadRequest("seed must be an integer", code=ErrorCode.INVALID_FIELD)


def _check_players(players: object) -> list[str]:
    if isinstance(players, str) or not isinstance(players, Sequence):
        raise BadRequest("players must be a list of player ids", code=ErrorCode.INVALID_FIELD)
    if not all(isinstance(p, str) and p for p in players):
        raise BadRequest("players must be a list of player ids", code=ErrorCode.INVALID_FIELD)
    ids: list[str] = list(players)
    if len(set(ids)) != len(ids):
        raise BadRequest("players must not repeat", code=ErrorCode.INVALID_FIELD)
    return sorted(ids)


def _check_roles(roles: Mapping[str, str] | None) -> None:
    if roles is None:
        return
    if not isinstance(roles, Mapping):
        raise BadRequest("roles must map players to roles", code=ErrorCode.INVALID_FIELD)
    for role in roles.values():
        if role not in ("newcomer", "experienced"):
            raise BadRequest(
                "a role must be 'newcomer' or 'experienced'", code=ErrorCode.INVALID_FIELD
            )


class _People:
    """Players as small integers, with what the costs look at, indexed once per call."""

    __slots__ = ("ids", "mentoring", "met", "role", "team")

    def __init__(
        self,
        ids: list[str],
        history: Iterable[Sequence[str]],
        teams: Mapping[str, str],
        roles: Mapping[str, str] | None,
    ) -> None:
        self.ids = ids
        index = {pid: i for i, pid in enumerate(ids)}
        n = len(ids)
        # Who met whom, as one set of numbers a * n + b (a < b): indexing the
        # history is most of a call's cost at 2,000 players, and one flat set
        # is the cheapest to build.
        self.met: set[int] = set()
        find = index.get
        add = self.met.add
        for group in history:
            if len(group) == 2:  # most groups: a pair
                a, b = find(group[0]), find(group[1])
                if a is not None and b is not None and a != b:
                    add(a * n + b if a < b else b * n + a)
                continue
            members = sorted({i for p in group if (i := find(p)) is not None})
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    add(a * n + b)
        team_numbers: dict[str, int] = {}
        self.team = [
            _NO_TEAM if pid not in teams else team_numbers.setdefault(teams[pid], len(team_numbers))
            for pid in ids
        ]
        self.mentoring = roles is not None
        role_of = roles or {}
        self.role = [
            _NEWCOMER
            if role_of.get(pid) == "newcomer"
            else _EXPERIENCED
            if role_of.get(pid) == "experienced"
            else 0
            for pid in ids
        ]

    def has_met(self, a: int, b: int) -> bool:
        n = len(self.ids)
        return (a * n + b if a < b else b * n + a) in self.met

    def pair_cost(self, a: int, b: int) -> int:
        cost = 0
        if self.has_met(a, b):
            cost += REPEAT
        team = self.team[a]
        if team != _NO_TEAM and team == self.team[b]:
            cost += SAME_TEAM
        return cost

    def group_cost(self, group: Sequence[int]) -> int:
        if len(group) == 2:  # the hot path of the local search, spelled out
            a, b = group
            n = len(self.ids)
            cost = REPEAT if (a * n + b if a < b else b * n + a) in self.met else 0
            team = self.team[a]
            if team != _NO_TEAM and team == self.team[b]:
                cost += SAME_TEAM
            if self.mentoring:
                ra, rb = self.role[a], self.role[b]
                if ra != _EXPERIENCED and rb != _EXPERIENCED:
                    cost += UNMENTORED * ((ra == _NEWCOMER) + (rb == _NEWCOMER))
            return cost
        cost = 0
        for x, a in enumerate(group):
            for b in group[x + 1 :]:
                cost += self.pair_cost(a, b)
        if self.mentoring:
            roles = [self.role[m] for m in group]
            if _EXPERIENCED not in roles:
                cost += UNMENTORED * roles.count(_NEWCOMER)
        return cost


def pair(
    players: Sequence[str],
    *,
    history: Iterable[Sequence[str]],
    teams: Mapping[str, str],
    roles: Mapping[str, str] | None = None,
    seed: int,
) -> list[tuple[str, ...]]:
    """Split ``players`` into pairs, with one trio when their number is odd.

    ``history``: groups of people who have met (earlier rotations of the
    session, a circle's recent sessions: see ``recent_groups``);
    ``teams``: player id -> team id (a player missing from it has no team);
    ``roles``: player id -> "newcomer" or "experienced" turns mentoring on
    (players missing from it have no role); ``seed``: any integer.

    The groups come in a seeded order, each sorted by player id; the trio,
    if any, may be anywhere. Refuses fewer than two players
    (``too_few_players``), repeated or non-string ids, unknown roles and a
    seed that is not an integer (``invalid_field``).
    """
    ids = _check_players(players)
    _check_seed(seed)
    _check_roles(roles)
    if len(ids) < 2:
        raise Conflict(
            "a pairing needs at least two present players", code=ErrorCode.TOO_FEW_PLAYERS
        )
    rng = random.Random(seed)
    rng.shuffle(ids)
    people = _People(ids, history, teams, roles)
    groups = _greedy(people)
    _improve(people, groups, rng)
    if any(people.group_cost(g) >= REPEAT for g in groups):
        repaired = _repair(people, groups)
        _improve(people, repaired, rng)
        if _total(people, repaired) < _total(people, groups):
            groups = repaired
    rng.shuffle(groups)
    return [tuple(sorted(ids[m] for m in g)) for g in groups]


def pairing_cost(
    groups: Iterable[Sequence[str]],
    *,
    history: Iterable[Iterable[str]],
    teams: Mapping[str, str],
    roles: Mapping[str, str] | None = None,
) -> PairingCost:
    """Measure a split against ``pair``'s preferences (for tests, the bench and the console)."""
    split = [list(g) for g in groups]
    met = meetings(history)
    repeats = same_team = unmentored = 0
    for group in split:
        for a, b in meetings([group]):
            repeats += (a, b) in met
            same_team += a in teams and teams.get(a) == teams.get(b)
        if roles is not None and not any(roles.get(p) == "experienced" for p in group):
            unmentored += sum(roles.get(p) == "newcomer" for p in group)
    return PairingCost(repeats, same_team, unmentored)


def _greedy(people: _People) -> list[list[int]]:
    n = len(people.ids)
    taken = [False] * n
    experienced = [i for i in range(n) if people.role[i] == _EXPERIENCED]
    exp_head = 0
    groups: list[list[int]] = []
    cost = people.pair_cost
    for a in range(n):
        if taken[a]:
            continue
        taken[a] = True
        best = -1
        best_cost = 0
        if people.mentoring and people.role[a] == _NEWCOMER:
            while exp_head < len(experienced) and taken[experienced[exp_head]]:
                exp_head += 1
            seen = 0
            for b in itertools.islice(experienced, exp_head, None):
                if taken[b]:
                    continue
                c = cost(a, b)
                if best < 0 or c < best_cost:
                    best, best_cost = b, c
                    if c == 0:
                        break
                seen += 1
                if seen == WINDOW:
                    break
        if best < 0 or best_cost > 0:
            seen = 0
            mentoring = people.mentoring
            for b in range(a + 1, n):
                if taken[b]:
                    continue
                c = people.group_cost((a, b)) if mentoring else cost(a, b)
                if best < 0 or c < best_cost:
                    best, best_cost = b, c
                    if c == 0:
                        break
                seen += 1
                if seen == WINDOW:
                    break
        if best < 0:  # the last one of an odd count: joins where they cost least
            _join_cheapest(people, groups, a)
            continue
        taken[best] = True
        groups.append([a, best])
    return groups


def _total(people: _People, groups: list[list[int]]) -> int:
    return sum(people.group_cost(g) for g in groups)


def _join_cheapest(people: _People, groups: list[list[int]], a: int) -> None:
    best = min(
        range(len(groups)),
        key=lambda i: people.group_cost([*groups[i], a]) - people.group_cost(groups[i]),
    )
    groups[best].append(a)


def _improve(people: _People, groups: list[list[int]], rng: random.Random) -> None:
    """Bounded local search: swap (or, from the trio, move) one member between two groups."""
    count = len(groups)
    if count < 2:
        return
    cost = [people.group_cost(g) for g in groups]
    for _ in range(PASSES):
        changed = False
        for gi in range(count):
            if cost[gi] == 0:
                continue
            for _ in range(SAMPLES):
                hi = rng.randrange(count - 1)
                hi += hi >= gi
                if _best_move(people, groups, cost, gi, hi):
                    changed = True
                if cost[gi] == 0:
                    break
        if not changed:
            return


def _best_move(people: _People, groups: list[list[int]], cost: list[int], gi: int, hi: int) -> bool:
    g, h = groups[gi], groups[hi]
    before = cost[gi] + cost[hi]
    best: tuple[int, list[int], list[int]] | None = None
    for x in range(len(g)):
        for y in range(len(h)):
            ng = [*g[:x], h[y], *g[x + 1 :]]
            nh = [*h[:y], g[x], *h[y + 1 :]]
            after = people.group_cost(ng) + people.group_cost(nh)
            if after < before and (best is None or after < best[0]):
                best = (after, ng, nh)
        if len(g) == 3:  # the trio's member moves: the other group becomes the trio
            ng = [*g[:x], *g[x + 1 :]]
            nh = [*h, g[x]]
            after = people.group_cost(ng) + people.group_cost(nh)
            if after < before and (best is None or after < best[0]):
                best = (after, ng, nh)
    if best is None:
        return False
    _, groups[gi], groups[hi] = best
    cost[gi], cost[hi] = people.group_cost(groups[gi]), people.group_cost(groups[hi])
    return True


def _repair(people: _People, groups: list[list[int]]) -> list[list[int]]:
    """A maximum matching of the unmet graph, grown from the fresh pairs of ``groups``.

    Every group's fresh pairs are kept as matched edges (a trio keeps one);
    Edmonds' augmenting paths then pair the rest while one can. With an odd
    count the one left joins the pair where they cost least.

    It stops at the first search that fails (the second, for an odd count):
    had the unmet graph a perfect matching, every person left unpaired would
    end an augmenting path (the difference of the two matchings is made of
    them); with a near-perfect one, every such person but one would. A
    failed search is the only expensive one (it looks at everyone), so there
    is at most one, or two, per call. A person no search can pair now will
    not be paired by a later search either (Edmonds), so no search is wasted.
    """
    n = len(people.ids)
    mate = [-1] * n
    for group in groups:
        for x, a in enumerate(group):
            if mate[a] >= 0:
                continue
            for b in group[x + 1 :]:
                if mate[b] < 0 and not people.has_met(a, b):
                    mate[a], mate[b] = b, a
                    break
    matched = sum(m >= 0 for m in mate) // 2
    degree = [0] * n  # people met: whoever met everyone is skipped without a search
    for key in people.met:
        degree[key // n] += 1
        degree[key % n] += 1
    failures = 0
    for root in range(n):
        if matched == n // 2 or failures > n % 2:
            break
        if mate[root] >= 0:
            continue
        if degree[root] < n - 1 and _augment(people, mate, root):
            matched += 1
        else:
            failures += 1
    result: list[list[int]] = []
    single: list[int] = []
    for a in range(n):
        if mate[a] < 0:
            single.append(a)
        elif a < mate[a]:
            result.append([a, mate[a]])
    # Whoever found no fresh partner (a repeat is then unavoidable, unless
    # n is odd and they are the one to join a pair): paired among themselves,
    # the last of an odd count joining the cheapest group.
    while len(single) >= 2:
        result.append([single.pop(), single.pop()])
    if single:
        _join_cheapest(people, result, single[0])
    return result


def _augment(people: _People, mate: list[int], root: int) -> bool:
    """One search for an augmenting path from ``root`` (Edmonds' blossoms); flips it if found.

    Neighbours are everyone not met, enumerated on demand, so the unmet
    graph is never built: when few have met, the first neighbours looked at
    are usually free and the search ends at once.
    """
    n = len(people.ids)
    met = people.met
    parent = [-1] * n
    base = list(range(n))
    used = [False] * n
    used[root] = True
    queue = deque([root])

    def lca(a: int, b: int) -> int:
        seen = [False] * n
        while True:
            a = base[a]
            seen[a] = True
            if mate[a] < 0:
                break
            a = parent[mate[a]]
        while True:
            b = base[b]
            if seen[b]:
                return b
            b = parent[mate[b]]

    def mark(v: int, b: int, child: int, blossom: list[bool]) -> None:
        while base[v] != b:
            blossom[base[v]] = blossom[base[mate[v]]] = True
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    while queue:
        v = queue.popleft()
        vn = v * n
        bv = base[v]
        # Those in v's blossom now are skipped in one quick pass (in a search
        # that fails, that is soon nearly everyone); base is checked again
        # below, as a blossom found while scanning may take in more.
        for to in [t for t in range(n) if base[t] != bv]:
            if to == v or base[v] == base[to] or mate[v] == to:
                continue
            if (to * n + v if to < v else vn + to) in met:
                continue
            if to == root or (mate[to] >= 0 and parent[mate[to]] >= 0):
                top = lca(v, to)
                blossom = [False] * n
                mark(v, top, to, blossom)
                mark(to, top, v, blossom)
                for i in range(n):
                    if blossom[base[i]]:
                        base[i] = top
                        if not used[i]:
                            used[i] = True
                            queue.append(i)
            elif parent[to] < 0:
                parent[to] = v
                if mate[to] < 0:
                    while to >= 0:  # flip the path root ... v, to
                        prev = parent[to]
                        after = mate[prev]
                        mate[to], mate[prev] = prev, to
                        to = after
                    return True
                used[mate[to]] = True
                queue.append(mate[to])
    return False


# -- Team mixing -------------------------------------------------------------

MIX_PASSES = 2  # swap passes over the players who still cost something
MIX_SAMPLES = 3  # players of other teams tried per costly player and pass
MIX_TRIES = 4096  # at most this many players looked at by all passes together
MIX_REPEAT = 1 << 20  # a repeated team-mate outweighs any spread of departments


class _Mix:
    """Counts behind ``mix_teams``: per past roster and per department, members on each team."""

    __slots__ = ("by_dept", "by_roster", "dept", "roster_sets", "rosters", "team_of")

    def __init__(self, rosters: list[list[int]], dept: list[int], teams: int) -> None:
        self.rosters = rosters  # player -> indexes of past rosters they were on
        self.roster_sets = [frozenset(r) for r in rosters]
        self.dept = dept  # player -> department number, -1 for none
        roster_count = 1 + max((r for rs in rosters for r in rs), default=-1)
        self.by_roster = [[0] * teams for _ in range(roster_count)]
        self.by_dept = [[0] * teams for _ in range(1 + max(dept, default=-1))]
        self.team_of = [-1] * len(rosters)

    def costs(self, p: int) -> list[int]:
        """What putting ``p`` on each team adds (``p`` on none)."""
        repeats = [0] * len(self.by_roster[0]) if self.by_roster else []
        for r in self.rosters[p]:
            repeats = list(map(int.__add__, repeats, self.by_roster[r]))
        d = self.dept[p]
        if d < 0:
            return [MIX_REPEAT * x for x in repeats] if repeats else []
        if not repeats:
            return list(self.by_dept[d])
        return [MIX_REPEAT * x + y for x, y in zip(repeats, self.by_dept[d], strict=True)]

    def adds(self, p: int, t: int) -> int:
        """What ``p`` costs on team ``t`` as it is (counting ``p`` too, if on it: see ``own``)."""
        repeats = 0
        for r in self.rosters[p]:
            repeats += self.by_roster[r][t]
        d = self.dept[p]
        return MIX_REPEAT * repeats + (self.by_dept[d][t] if d >= 0 else 0)

    def own(self, p: int) -> int:
        """What ``p`` costs on its own team: ``adds`` less ``p`` counted as its own team-mate."""
        itself = MIX_REPEAT * len(self.rosters[p]) + (self.dept[p] >= 0)
        return self.adds(p, self.team_of[p]) - itself

    def with_other(self, p: int, q: int) -> int:
        """What ``p`` and ``q`` cost each other on one team."""
        shared = len(self.roster_sets[p] & self.roster_sets[q]) if self.rosters[p] else 0
        return MIX_REPEAT * shared + (self.dept[p] >= 0 and self.dept[p] == self.dept[q])

    def put(self, p: int, t: int, step: int) -> None:
        for r in self.rosters[p]:
            self.by_roster[r][t] += step
        d = self.dept[p]
        if d >= 0:
            self.by_dept[d][t] += step
        self.team_of[p] = t if step > 0 else -1


def mix_teams(
    players: Sequence[str],
    teams: Sequence[str],
    *,
    history: Iterable[Iterable[str]],
    departments: Mapping[str, str] | None = None,
    seed: int,
) -> dict[str, str]:
    """Deal ``players`` into ``teams`` (ids), sizes differing by at most one.

    Prefers, first, team-mates who have not played on a team together
    (``history``: the rosters of past teams, e.g. a circle's last sessions;
    two people who shared k rosters count k times), then team-mates of
    different departments (``departments``: player id -> department; players
    missing from it have none). The first ``len(players) % len(teams)`` teams
    get the extra player. Returns player id -> team id.

    Cost: the players are dealt greedily, most remembered first, each to the
    open team where they add least (O(n * teams * rosters per player)), then
    at most ``MIX_PASSES`` passes try ``MIX_SAMPLES`` swaps with players of
    other teams for each player who still adds something (O(rosters per
    player) a swap, without moving anyone to try it), within ``MIX_TRIES``
    players looked at in all: a constant, so large rooms get the greedy deal
    and a little polish, small circles every pass.
    Refuses no teams (``no_teams``), repeated teams or players and a seed
    that is not an integer (``invalid_field``).
    """
    ids = _check_players(players)
    _check_seed(seed)
    if isinstance(teams, str) or not isinstance(teams, Sequence):
        raise BadRequest("teams must be a list of team ids", code=ErrorCode.INVALID_FIELD)
    team_ids = list(teams)
    if not team_ids:
        raise Conflict("there are no teams to mix players into", code=ErrorCode.NO_TEAMS)
    if len(set(team_ids)) != len(team_ids) or not all(isinstance(t, str) for t in team_ids):
        raise BadRequest("teams must be distinct team ids", code=ErrorCode.INVALID_FIELD)
    rng = random.Random(seed)
    rng.shuffle(ids)
    index = {pid: i for i, pid in enumerate(ids)}
    rosters: list[list[int]] = [[] for _ in ids]
    number = 0
    for group in history:
        members = [i for pid in set(group) if (i := index.get(pid)) is not None]
        if len(members) > 1:  # a roster of one remembers no team-mate
            for i in members:
                rosters[i].append(number)
            number += 1
    dept_numbers: dict[str, int] = {}
    depts = departments or {}
    dept = [
        dept_numbers.setdefault(depts[pid], len(dept_numbers)) if pid in depts else -1
        for pid in ids
    ]
    k = len(team_ids)
    capacity = [len(ids) // k + (t < len(ids) % k) for t in range(k)]
    mix = _Mix(rosters, dept, k)
    size = [0] * k
    open_teams = [t for t in range(k) if capacity[t]]
    scale = len(ids) + 1  # cost first, then the emptier team: balanced filling
    # Most remembered first: they have the fewest good places left.
    for p in sorted(range(len(ids)), key=lambda p: -len(rosters[p])):
        costs = mix.costs(p)
        if costs:
            best = min(open_teams, key=lambda t: costs[t] * scale + size[t])
        else:
            best = min(open_teams, key=size.__getitem__)
        mix.put(p, best, 1)
        size[best] += 1
        if size[best] == capacity[best]:
            open_teams.remove(best)
    _improve_mix(mix, rng)
    return {ids[p]: team_ids[mix.team_of[p]] for p in sorted(range(len(ids)), key=ids.__getitem__)}


def _improve_mix(mix: _Mix, rng: random.Random) -> None:
    n = len(mix.team_of)
    if n < 2:
        return
    team_of = mix.team_of
    tries = 0
    for _ in range(MIX_PASSES):
        changed = False
        for p in range(n):
            tries += 1 + MIX_SAMPLES
            if tries > MIX_TRIES:
                return
            here = mix.own(p)
            if here == 0:
                continue
            a = team_of[p]
            for _ in range(MIX_SAMPLES):
                q = rng.randrange(n)
                b = team_of[q]
                if b == a:
                    continue
                between = mix.with_other(p, q)  # q leaves b as p comes, and the other way
                after = mix.adds(p, b) - between + mix.adds(q, a) - between
                if after < here + mix.own(q):
                    mix.put(p, a, -1)
                    mix.put(q, b, -1)
                    mix.put(p, b, 1)
                    mix.put(q, a, 1)
                    changed = True
                    break
        if not changed:
            return


def mix_cost(
    assignment: Mapping[str, str],
    *,
    history: Iterable[Iterable[str]],
    departments: Mapping[str, str] | None = None,
) -> TeamMixCost:
    """Measure a team assignment (player id -> team id) against ``mix_teams``' preferences."""
    by_team: dict[str, list[str]] = {}
    for pid, team in assignment.items():
        by_team.setdefault(team, []).append(pid)
    together: dict[tuple[str, str], int] = {}
    for group in history:
        for key in meetings([group]):
            together[key] = together.get(key, 0) + 1
    depts = departments or {}
    repeats = same_department = 0
    for members in by_team.values():
        for a, b in meetings([members]):
            repeats += together.get((a, b), 0)
            same_department += a in depts and depts.get(a) == depts.get(b)
    return TeamMixCost(repeats, same_department)


# -- The breakout list -------------------------------------------------------

_BREAKOUT_WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "title": "Breakout rooms",
        "room": "Room",
        "trio": "trio",
        "trios": "trios",
        "group": "group",
        "groups": "groups",
        "pair": "pair",
        "pairs": "pairs",
        "and": "and",
        "person": "person",
        "people": "people",
    },
    "it": {
        "title": "Sale per sottogruppi",
        "room": "Sala",
        "trio": "terzetto",
        "trios": "terzetti",
        "group": "gruppo",
        "groups": "gruppi",
        "pair": "coppia",
        "pairs": "coppie",
        "and": "e",
        "person": "persona",
        "people": "persone",
    },
}


@dataclass(slots=True, frozen=True)
class BreakoutRow:
    number: int  # the breakout room's number, from 1
    names: tuple[str, ...]

    @property
    def is_trio(self) -> bool:
        return len(self.names) == 3


def breakout_rows(groups: Sequence[Sequence[str]], names: Mapping[str, str]) -> list[BreakoutRow]:
    """The groups as numbered rows of display names (``names``: player id -> name).

    A group left empty by a player who left (``regroup``) has no row; the
    others keep their numbers.
    """
    return [
        BreakoutRow(number, tuple(names[pid] for pid in group))
        for number, group in enumerate(groups, start=1)
        if group
    ]


def breakout_text(
    groups: Sequence[Sequence[str]], names: Mapping[str, str], *, language: Language = "en"
) -> str:
    """The assignment as plain text for the host to copy into the meeting tool's breakout rooms.

    One line per breakout room, numbered as the meeting tools number theirs
    ("Room 1: Ada, Bruno"), after a title line. Names are shown as given:
    they never hold line breaks (``rooms.clean_name`` refuses them).
    """
    words = _BREAKOUT_WORDS[language]
    rows = breakout_rows(groups, names)
    pairs = sum(len(row.names) == 2 for row in rows)
    trios = sum(row.is_trio for row in rows)
    # Only once a player left mid-rotation: one alone, or a trio that took them in.
    others = len(rows) - pairs - trios
    people = sum(len(row.names) for row in rows)
    counts = []
    if pairs:
        counts.append(f"{pairs} {words['pair'] if pairs == 1 else words['pairs']}")
    if trios:
        counts.append(f"{trios} {words['trio'] if trios == 1 else words['trios']}")
    if others:
        counts.append(f"{others} {words['group'] if others == 1 else words['groups']}")
    # Each kind of group, then the people; with every group left empty (all
    # of a rotation's players gone), the people alone: "0 people".
    if len(counts) > 1:
        counts[-2:] = [f"{counts[-2]} {words['and']} {counts[-1]}"]
    counts.append(f"{people} {words['person' if people == 1 else 'people']}")
    lines = [f"{words['title']}: {', '.join(counts)}"]
    for row in rows:
        trio = f" ({words['trio']})" if row.is_trio else ""
        lines.append(f"{words['room']} {row.number}: {', '.join(row.names)}{trio}")
    return "\n".join(lines) + "\n"
