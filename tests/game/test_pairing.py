"""Coffee pairing and team mixing: pure rules, checked against brute force on small rooms."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from functools import cache

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ritrovo.errors import RitrovoError
from ritrovo.game import pairing
from ritrovo.game.pairing import Pairing, PairingCost, TeamMixCost

PROPERTY = settings(max_examples=150, deadline=None)
NOW = 1_000_000.0


def ids(n: int) -> list[str]:
    return [f"p{i:02d}" for i in range(n)]


def check_split(groups: Sequence[Sequence[str]], players: Sequence[str]) -> None:
    """Everyone exactly once; pairs, plus one trio exactly when the count is odd."""
    flat = [p for g in groups for p in g]
    assert sorted(flat) == sorted(players)
    sizes = sorted(len(g) for g in groups)
    assert sizes == [2] * (len(players) // 2 - len(players) % 2) + [3] * (len(players) % 2)


def fresh_split_exists(players: Sequence[str], history: Sequence[Sequence[str]]) -> bool:
    """Brute force (small rooms only): can everyone be grouped with people they have not met?

    Pairs, plus one trio when the count is odd, as ``pair`` groups them.
    """
    met = pairing.meetings(history)
    n = len(players)

    def fresh(i: int, j: int) -> bool:
        a, b = sorted((players[i], players[j]))
        return (a, b) not in met

    @cache
    def can(mask: int, trio_left: bool) -> bool:
        if mask == 0:
            return not trio_left
        i = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << i)
        others = [j for j in range(n) if rest >> j & 1 and fresh(i, j)]
        for j in others:
            if can(rest & ~(1 << j), trio_left):
                return True
        if trio_left:
            for x, j in enumerate(others):
                for k in others[x + 1 :]:
                    if fresh(j, k) and can(rest & ~(1 << j) & ~(1 << k), False):
                        return True
        return False

    return can((1 << n) - 1, n % 2 == 1)


def fresh_pairs_for_all_but_one(players: Sequence[str], history: Sequence[Sequence[str]]) -> bool:
    """Brute force: with an odd count, can everyone but one be paired freshly?"""
    return any(fresh_split_exists([p for p in players if p != out], history) for out in players)


# -- Sizes, refusals, determinism ---------------------------------------------


@pytest.mark.parametrize("n", range(2, 22))
def test_pairs_and_one_trio_for_an_odd_count(n: int) -> None:
    players = ids(n)
    groups = pairing.pair(players, history=[], teams={}, seed=n)
    check_split(groups, players)
    assert all(list(g) == sorted(g) for g in groups)


def test_two_make_a_pair_and_three_a_trio() -> None:
    assert pairing.pair(["b", "a"], history=[], teams={}, seed=0) == [("a", "b")]
    assert pairing.pair(["c", "a", "b"], history=[], teams={}, seed=0) == [("a", "b", "c")]


@pytest.mark.parametrize(
    ("players", "kwargs", "code"),
    [
        ([], {}, "too_few_players"),
        (["a"], {}, "too_few_players"),
        (["a", "b", "a"], {}, "invalid_field"),
        (["a", 7], {}, "invalid_field"),
        (["a", ""], {}, "invalid_field"),
        ("ab", {}, "invalid_field"),
        (["a", "b"], {"seed": "1"}, "invalid_field"),
        (["a", "b"], {"seed": True}, "invalid_field"),
        (["a", "b"], {"roles": {"a": "boss"}}, "invalid_field"),
    ],
)
def test_bad_input_is_refused(players: object, kwargs: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"history": [], "teams": {}, "seed": 1, **kwargs}
    with pytest.raises(RitrovoError) as err:
        pairing.pair(players, **args)  # type: ignore[arg-type]
    assert err.value.code == code


def test_the_same_seed_gives_the_same_pairing_whatever_the_input_order() -> None:
    players = ids(31)
    teams = {p: f"t{i % 4}" for i, p in enumerate(players)}
    roles = {p: "newcomer" if i % 3 == 0 else "experienced" for i, p in enumerate(players)}
    history = [players[i : i + 2] for i in range(0, 30, 3)]
    first = pairing.pair(players, history=history, teams=teams, roles=roles, seed=42)
    again = pairing.pair(
        list(reversed(players)), history=history, teams=teams, roles=roles, seed=42
    )
    assert first == again
    others = {
        tuple(pairing.pair(players, history=history, teams=teams, roles=roles, seed=s))
        for s in range(5)
    }
    assert len(others) == 5  # "shuffle again" gives another pairing


def test_pairing_changes_none_of_its_inputs() -> None:
    players = ids(9)
    history = [["p00", "p01"], ["p02", "p03", "p04"]]
    teams = {p: "t1" for p in players}
    roles = {"p00": "newcomer"}
    before = copy.deepcopy((players, history, teams, roles))
    pairing.pair(players, history=history, teams=teams, roles=roles, seed=3)
    assert (players, history, teams, roles) == before


# -- Preferences -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_pairs_prefer_people_of_different_teams(seed: int) -> None:
    players = ids(12)
    teams = {p: "red" if i < 6 else "blue" for i, p in enumerate(players)}
    groups = pairing.pair(players, history=[], teams=teams, seed=seed)
    assert pairing.pairing_cost(groups, history=[], teams=teams) == PairingCost(0, 0, 0)


@pytest.mark.parametrize("seed", range(20))
def test_a_big_team_is_spread_over_as_many_pairs_as_it_can(seed: int) -> None:
    players = ids(10)  # 7 of one team, 3 of others: at least two same-team pairs
    teams = {p: "big" if i < 7 else f"small{i}" for i, p in enumerate(players)}
    groups = pairing.pair(players, history=[], teams=teams, seed=seed)
    assert pairing.pairing_cost(groups, history=[], teams=teams).same_team == 2


def test_players_with_no_team_are_of_no_team() -> None:
    players = ids(6)
    teams = {"p00": "red", "p01": "red"}  # the others are in no team, not in one team together
    for seed in range(10):
        groups = pairing.pair(players, history=[], teams=teams, seed=seed)
        assert pairing.pairing_cost(groups, history=[], teams=teams) == PairingCost(0, 0, 0)


@pytest.mark.parametrize("seed", range(20))
def test_mentoring_pairs_a_newcomer_with_an_experienced_player(seed: int) -> None:
    players = ids(13)
    roles = {p: "newcomer" for p in players[:4]} | {p: "experienced" for p in players[4:9]}
    groups = pairing.pair(players, history=[], teams={}, roles=roles, seed=seed)
    assert pairing.pairing_cost(groups, history=[], teams={}, roles=roles).unmentored == 0
    for group in groups:
        if any(roles.get(p) == "newcomer" for p in group):
            assert any(roles.get(p) == "experienced" for p in group)


def test_without_roles_there_is_no_mentoring() -> None:
    roles = {"a": "newcomer", "b": "newcomer", "c": "experienced", "d": "experienced"}
    # Without the option both splits are equally good; with it only the mixed one is.
    mixed = [pairing.pair(list(roles), history=[], teams={}, roles=roles, seed=s) for s in range(8)]
    assert all(
        pairing.pairing_cost(g, history=[], teams={}, roles=roles).unmentored == 0 for g in mixed
    )
    plain = {tuple(pairing.pair(list(roles), history=[], teams={}, seed=s)) for s in range(30)}
    assert (("a", "b"), ("c", "d")) in plain or (("c", "d"), ("a", "b")) in plain


@pytest.mark.parametrize("seed", range(10))
def test_preferences_rank_fresh_then_teams_then_mentoring(seed: int) -> None:
    # new1 and old1 share a team; only x and y are on the other team.
    teams = {"new1": "A", "old1": "A", "x": "B", "y": "B"}
    roles = {"new1": "newcomer", "old1": "experienced"}
    groups = pairing.pair(list(teams), history=[], teams=teams, roles=roles, seed=seed)
    assert pairing.pairing_cost(groups, history=[], teams=teams, roles=roles) == PairingCost(
        0, 0, 1
    )
    # new1 has met both of team B: not repeating outweighs the team preference.
    history = [["new1", "x"], ["new1", "y"]]
    groups = pairing.pair(list(teams), history=history, teams=teams, roles=roles, seed=seed)
    assert pairing.pairing_cost(groups, history=history, teams=teams, roles=roles) == PairingCost(
        0, 2, 0
    )


# -- Never repeat while a fresh pairing exists ----------------------------------


@PROPERTY
@given(
    n=st.integers(2, 12),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_no_repeat_while_everyone_can_be_grouped_freshly(
    n: int, data: st.DataObject, seed: int
) -> None:
    """Any history: a fresh split found by brute force means ``pair`` finds one (even n).

    With an odd count: if all but one can be paired freshly, at most two meetings repeat.
    """
    players = ids(n)
    all_pairs = pairing.meetings([players])
    history = [list(p) for p in data.draw(st.sets(st.sampled_from(sorted(all_pairs))))]
    teams = {p: data.draw(st.sampled_from("ABC")) for p in players}
    groups = pairing.pair(players, history=history, teams=teams, seed=seed)
    check_split(groups, players)
    repeats = pairing.pairing_cost(groups, history=history, teams=teams).repeats
    if n % 2 == 0 and fresh_split_exists(players, history):
        assert repeats == 0
    if n % 2 == 1 and fresh_pairs_for_all_but_one(players, history):
        assert repeats <= 2


@PROPERTY
@given(
    n=st.integers(1, 9).map(lambda half: 2 * half),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_rotations_stay_fresh_while_a_fresh_pairing_exists(
    n: int, data: st.DataObject, seed: int
) -> None:
    """The same n players (n even) rotating, with teams and mentoring roles.

    The first n/2 rotations are all fresh (Dirac: see the module's docstring);
    every later one is fresh whenever a fresh pairing exists (brute force).
    """
    players = ids(n)
    teams = {p: data.draw(st.sampled_from("ABC")) for p in players}
    roles = {
        p: role
        for p in players
        if (role := data.draw(st.sampled_from(["newcomer", "experienced", None]))) is not None
    }
    history: list[Sequence[str]] = []
    for rotation in range(1, n + 2):
        groups = pairing.pair(
            players, history=history, teams=teams, roles=roles, seed=seed + rotation
        )
        check_split(groups, players)
        repeats = pairing.pairing_cost(groups, history=history, teams=teams).repeats
        if rotation <= n // 2 or fresh_split_exists(players, history):
            assert repeats == 0, (rotation, history, groups)
        history.extend(groups)


@pytest.mark.parametrize("n", [40, 64, 100])
def test_large_rooms_rotate_freshly_for_half_their_size(n: int) -> None:
    players = ids(n)
    teams = {p: f"t{i % 5}" for i, p in enumerate(players)}
    history: list[Sequence[str]] = []
    for rotation in range(n // 2):
        groups = pairing.pair(players, history=history, teams=teams, seed=rotation)
        assert pairing.pairing_cost(groups, history=history, teams=teams).repeats == 0
        history.extend(groups)


def test_a_full_round_robin_cannot_be_promised_one_rotation_at_a_time() -> None:
    """Six players, three fresh rotations that leave two triangles: no fresh fourth exists.

    Every rotation here is fresh, yet the pairs left unmet (a1-a2-a3 and
    b1-b2-b3) cannot pair six people: the repeat is forced, and only one.
    """
    a1, a2, a3, b1, b2, b3 = players = ["a1", "a2", "a3", "b1", "b2", "b3"]
    rotations = [
        [[a1, b1], [a2, b2], [a3, b3]],
        [[a1, b2], [a2, b3], [a3, b1]],
        [[a1, b3], [a2, b1], [a3, b2]],
    ]
    trap = [group for rotation in rotations for group in rotation]
    assert len(pairing.meetings(trap)) == 9
    assert not fresh_split_exists(players, trap)
    for seed in range(10):
        groups = pairing.pair(players, history=trap, teams={}, seed=seed)
        check_split(groups, players)
        assert pairing.pairing_cost(groups, history=trap, teams={}).repeats == 1


# -- Circles: history across sessions --------------------------------------------


def test_recent_groups_keeps_the_last_sessions() -> None:
    sessions = [[["a", "b"]], [["a", "c"]], [["a", "d"]]]
    assert pairing.recent_groups(sessions, 2) == [["a", "c"], ["a", "d"]]
    assert pairing.recent_groups(sessions, 5) == [["a", "b"], ["a", "c"], ["a", "d"]]
    assert pairing.recent_groups(sessions, 0) == []
    with pytest.raises(RitrovoError) as err:
        pairing.recent_groups(sessions, -1)
    assert err.value.code == "invalid_field"


@pytest.mark.parametrize("seed", range(10))
def test_pairs_met_in_the_circles_last_sessions_are_avoided(seed: int) -> None:
    sessions = [
        [["a", "b"], ["c", "d"]],  # the oldest: forgotten with last=2
        [["a", "c"], ["b", "d"]],
        [["a", "d"], ["b", "c"]],
    ]
    history = pairing.recent_groups(sessions, 2)
    groups = pairing.pair(["a", "b", "c", "d"], history=history, teams={}, seed=seed)
    assert sorted(groups) == [("a", "b"), ("c", "d")]


@pytest.mark.parametrize("seed", range(10))
def test_the_circles_memory_and_this_session_add_up(seed: int) -> None:
    players = ids(8)
    circle = pairing.recent_groups([[players[0:2], players[2:4]], [players[4:6]]], 2)
    first = pairing.start_pairing(
        players,
        history=circle,
        teams={},
        seed=seed,
        rotation=1,
        prompt_index=0,
        seconds=300,
        now=NOW,
    )
    history = circle + pairing.session_groups([first])
    groups = pairing.pair(players, history=history, teams={}, seed=seed + 1)
    met = pairing.meetings(history)
    assert not met & pairing.meetings(groups)
    assert not pairing.meetings(circle) & pairing.meetings(first.groups)


# -- The pairing as the room keeps it ---------------------------------------------


def test_start_pairing_wraps_groups_with_prompt_and_timer() -> None:
    p = pairing.start_pairing(
        ids(7), history=[], teams={}, seed=5, rotation=2, prompt_index=3, seconds=300, now=NOW
    )
    check_split(p.groups, ids(7))
    assert (p.rotation, p.prompt_index, p.started_at, p.seconds, p.seed) == (2, 3, NOW, 300.0, 5)
    assert p.deadline_at == NOW + 300
    assert p.group_of(p.groups[1][0]) == 1 and p.group_of("nobody") is None


@pytest.mark.parametrize("seconds", [0, 14, 3601, "300", True, None, float("nan")])
def test_start_pairing_refuses_bad_seconds(seconds: object) -> None:
    with pytest.raises(RitrovoError) as err:
        pairing.start_pairing(
            ids(4),
            history=[],
            teams={},
            seed=1,
            rotation=1,
            prompt_index=0,
            seconds=seconds,
            now=NOW,
        )
    assert err.value.code == "invalid_field"


def test_start_pairing_refuses_a_lone_player() -> None:
    with pytest.raises(RitrovoError) as err:
        pairing.start_pairing(
            ["solo"],
            history=[],
            teams={},
            seed=1,
            rotation=1,
            prompt_index=0,
            seconds=300,
            now=NOW,
        )
    assert err.value.code == "too_few_players"


def test_a_pairing_is_json_and_comes_back_the_same() -> None:
    p = pairing.start_pairing(
        ids(5), history=[], teams={}, seed=9, rotation=1, prompt_index=2, seconds=240.5, now=NOW
    )
    data = orjson.dumps(p)
    assert orjson.loads(data) == {
        "rotation": 1,
        "groups": p.groups,
        "prompt_index": 2,
        "started_at": NOW,
        "seconds": 240.5,
        "seed": 9,
    }
    back = msgspec.json.decode(data, type=Pairing)
    assert back == p and orjson.dumps(back) == data
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(data.replace(b'"seed":9', b'"seed":"9"'), type=Pairing)


def test_a_sessions_pairings_decode_as_a_list() -> None:
    rotations = [
        pairing.start_pairing(
            ids(6), history=[], teams={}, seed=s, rotation=s, prompt_index=s, seconds=300, now=NOW
        )
        for s in (1, 2)
    ]
    back = msgspec.json.decode(orjson.dumps(rotations), type=list[Pairing])
    assert back == rotations
    assert pairing.session_groups(back) == rotations[0].groups + rotations[1].groups


def test_prompts_are_not_repeated_while_unused_ones_are_left() -> None:
    used: list[int] = []
    for seed in range(4):
        used.append(pairing.choose_prompt(4, used, seed))
    assert sorted(used) == [0, 1, 2, 3]
    assert pairing.choose_prompt(4, used, 7) in range(4)  # all used: any again
    assert pairing.choose_prompt(4, [0, 2], 1) == pairing.choose_prompt(4, [0, 2], 1)
    with pytest.raises(RitrovoError) as err:
        pairing.choose_prompt(0, [], 1)
    assert err.value.code == "no_prompts"


# -- The breakout list -------------------------------------------------------------

NAMES = {"a": "Ada", "b": "Bruno", "c": "Chiara", "d": "Dario", "e": "Elena"}


def test_breakout_text_in_english_and_italian() -> None:
    groups = [["a", "b"], ["c", "d", "e"]]
    assert pairing.breakout_text(groups, NAMES) == (
        "Breakout rooms: 1 pair and 1 trio, 5 people\n"
        "Room 1: Ada, Bruno\n"
        "Room 2: Chiara, Dario, Elena (trio)\n"
    )
    assert pairing.breakout_text(groups, NAMES, language="it") == (
        "Sale per sottogruppi: 1 coppia e 1 terzetto, 5 persone\n"
        "Sala 1: Ada, Bruno\n"
        "Sala 2: Chiara, Dario, Elena (terzetto)\n"
    )
    assert pairing.breakout_text([["a", "b"], ["c", "d"]], NAMES) == (
        "Breakout rooms: 2 pairs, 4 people\nRoom 1: Ada, Bruno\nRoom 2: Chiara, Dario\n"
    )


def test_breakout_rows_number_the_groups_from_one() -> None:
    rows = pairing.breakout_rows([["a", "b"], ["c", "d", "e"]], NAMES)
    assert [(r.number, r.names, r.is_trio) for r in rows] == [
        (1, ("Ada", "Bruno"), False),
        (2, ("Chiara", "Dario", "Elena"), True),
    ]


def test_breakout_text_after_a_player_left_keeps_the_room_numbers() -> None:
    names = {**NAMES, "f": "Fabio", "g": "Gaia"}
    groups = [["a", "b", "f"], [], ["c", "d", "e", "g"]]
    assert pairing.breakout_text(groups, names) == (
        "Breakout rooms: 1 trio and 1 group, 7 people\n"
        "Room 1: Ada, Bruno, Fabio (trio)\n"
        "Room 3: Chiara, Dario, Elena, Gaia\n"
    )
    assert pairing.breakout_text([["a"]], NAMES, language="it") == (
        "Sale per sottogruppi: 1 gruppo, 1 persona\nSala 1: Ada\n"
    )
    assert (
        pairing.breakout_text([["a"]], NAMES) == "Breakout rooms: 1 group, 1 person\nRoom 1: Ada\n"
    )


# -- A player leaves a running rotation ----------------------------------------------

TEAMS = {"a": "t1", "b": "t2", "c": "t1", "d": "t2", "e": "t1", "f": "t2", "g": "t1"}


def test_a_partner_left_alone_joins_a_pair_rather_than_the_trio() -> None:
    groups = [["a", "b"], ["c", "d", "e"], ["f", "g"]]
    # The trio would be fresher for "a" (they met "f" before): a pair still comes first.
    after = pairing.regroup(groups, "b", history=[["a", "f"]], teams=TEAMS)
    assert after == [[], ["c", "d", "e"], ["f", "g", "a"]]
    assert groups == [["a", "b"], ["c", "d", "e"], ["f", "g"]]  # not changed in place


def test_among_pairs_the_one_left_alone_prefers_fresh_then_other_teams() -> None:
    groups = [["a", "b"], ["c", "d"], ["f", "g"], ["e", "x"]]
    teams = {**TEAMS, "x": "t1"}
    # c-d and f-g both hold one of a's team (t1); e-x holds two: f-g has a met before.
    assert pairing.regroup(groups, "b", history=[["a", "f"]], teams=teams) == [
        [],
        ["c", "d", "a"],
        ["f", "g"],
        ["e", "x"],
    ]
    # Nobody met before: the lowest breakout room among the equal ones.
    assert pairing.regroup(groups, "b", history=[], teams=teams) == [
        [],
        ["c", "d", "a"],
        ["f", "g"],
        ["e", "x"],
    ]
    fresher = pairing.regroup(groups, "b", history=[["a", "c"]], teams=teams)
    assert fresher is not None and fresher[2] == ["f", "g", "a"]


def test_a_trio_that_loses_one_stays_a_pair_and_nobody_else_moves() -> None:
    groups = [["a", "b"], ["c", "d", "e"]]
    assert pairing.regroup(groups, "d", history=[], teams=TEAMS) == [["a", "b"], ["c", "e"]]
    # The next one left alone joins the trio that took someone in, when it is all there is.
    assert pairing.regroup([["a", "b"], ["c", "d", "e"]], "a", history=[], teams=TEAMS) == [
        [],
        ["c", "d", "e", "b"],
    ]


def test_with_nobody_else_the_one_left_stays_alone() -> None:
    assert pairing.regroup([["a", "b"]], "a", history=[], teams=TEAMS) == [["b"]]
    assert pairing.regroup([["a", "b"], []], "b", history=[], teams=TEAMS) == [["a"], []]
    assert pairing.regroup([["b"]], "b", history=[], teams=TEAMS) == [[]]
    assert pairing.regroup([["a", "b"]], "z", history=[], teams=TEAMS) is None


# -- Mixing teams -------------------------------------------------------------------


def sizes(assignment: Mapping[str, str]) -> list[int]:
    counts: dict[str, int] = {}
    for team in assignment.values():
        counts[team] = counts.get(team, 0) + 1
    return sorted(counts.values())


@PROPERTY
@given(n=st.integers(0, 40), k=st.integers(1, 6), seed=st.integers(0, 2**32))
def test_mixed_teams_differ_in_size_by_at_most_one(n: int, k: int, seed: int) -> None:
    players = ids(n)
    teams = [f"t{i}" for i in range(k)]
    assignment = pairing.mix_teams(players, teams, history=[], seed=seed)
    assert sorted(assignment) == players
    assert set(assignment.values()) <= set(teams)
    got = sizes(assignment) + [0] * (k - len(set(assignment.values())))
    assert max(got) - min(got) <= 1


@pytest.mark.parametrize("seed", range(10))
def test_mixing_makes_only_new_combinations_when_it_can(seed: int) -> None:
    players = ids(16)
    last_time = [players[i : i + 4] for i in range(0, 16, 4)]  # four teams of four
    teams = ["w", "x", "y", "z"]
    assignment = pairing.mix_teams(players, teams, history=last_time, seed=seed)
    assert sizes(assignment) == [4, 4, 4, 4]
    assert pairing.mix_cost(assignment, history=last_time) == TeamMixCost(0, 0)


@pytest.mark.parametrize("seed", range(10))
def test_mixing_spreads_departments_after_new_combinations(seed: int) -> None:
    players = ids(8)
    departments = {p: "sales" if i % 2 else "design" for i, p in enumerate(players)}
    assignment = pairing.mix_teams(
        players, ["x", "y"], history=[], departments=departments, seed=seed
    )
    # Two of each department per team: 2 same-department pairs per team.
    assert pairing.mix_cost(assignment, history=[], departments=departments).same_department == 4
    # Playing together before outweighs departments: p00..p03 were a team.
    history = [players[:4]]
    assignment = pairing.mix_teams(
        players, ["x", "y"], history=history, departments=departments, seed=seed
    )
    assert pairing.mix_cost(assignment, history=history, departments=departments).repeats == 2


def test_mixing_is_deterministic_per_seed() -> None:
    players = ids(30)
    history = [players[i : i + 5] for i in range(0, 30, 5)]
    teams = ["a", "b", "c"]
    first = pairing.mix_teams(players, teams, history=history, seed=4)
    assert first == pairing.mix_teams(players[::-1], teams, history=history, seed=4)
    assert first != pairing.mix_teams(players, teams, history=history, seed=5)


@pytest.mark.parametrize(
    ("players", "teams", "seed", "code"),
    [
        (["a", "b"], [], 1, "no_teams"),
        (["a", "b"], ["x", "x"], 1, "invalid_field"),
        (["a", "a"], ["x"], 1, "invalid_field"),
        (["a", "b"], "xy", 1, "invalid_field"),
        (["a", "b"], ["x"], 1.5, "invalid_field"),
    ],
)
def test_mixing_refuses_bad_input(players: object, teams: object, seed: object, code: str) -> None:
    with pytest.raises(RitrovoError) as err:
        pairing.mix_teams(players, teams, history=[], seed=seed)  # type: ignore[arg-type]
    assert err.value.code == code
