"""Circles that remember: members, sessions kept for a while, history across sessions, forgetting."""

from __future__ import annotations

import copy
import itertools

import pytest
from ritrovo.errors import RitrovoError
from ritrovo.game import circles, pairing
from ritrovo.game.circles import Circle, CircleMember

NOW = 1_000_000.0
HOUR = 3600.0


_circle_numbers = itertools.count(1)
# Circle id -> the highest member number handed out in it: the store's counter (``n`` beside
# the circle's parts), which never goes back, so a forgotten member's id is not given again.
_handed_out: dict[str, int] = {}


def circle_of(*names: str) -> tuple[Circle, dict[str, str]]:
    """A circle whose members are ``names``; returns it and name -> member id."""
    circle_id = f"circle{next(_circle_numbers):010d}"
    circle = circles.new_circle(circle_id, "Marketing, Milan office", "h" * 64, NOW)
    ids = {}
    for name in names:
        ids[name] = arrive(circle, f"device-{name}", name, NOW).id
    return circle, ids


def arrive(circle: Circle, device: str, name: object, now: float) -> CircleMember:
    """A device's arrival as the store makes it (``RoomStore.arrive_circle``, which also
    refuses a full circle): the member it names, back under ``name``, or a new one
    numbered by the circle's counter (never a number handed out before)."""
    member = circle.member_by_device(device)
    if member is not None:
        circles.returning(member, name, now)
        return member
    number = _handed_out.get(circle.id, 0) + 1
    member = circles.new_member(f"c{number}", device, name, now)
    _handed_out[circle.id] = number
    circle.members[member.id] = member
    return member


def test_the_arrival_helper_numbers_members_as_the_store_does() -> None:
    """The store keeps a counter: forgetting the highest-numbered member frees no number
    (tests/store/test_circle_service.py checks the stores themselves)."""
    circle, ids = circle_of("Ada", "Bea")
    assert ids == {"Ada": "c1", "Bea": "c2"}
    assert circles.forget(circle, ids["Bea"])
    assert arrive(circle, "device-Bea", "Bea", NOW).id == "c3"


def test_a_returning_device_is_the_same_member_under_its_new_name() -> None:
    circle, ids = circle_of("Ada", "Bea")
    member = circle.member_by_device("device-Ada")
    assert member is not None and member.id == ids["Ada"]
    assert circles.returning(member, "Ada L.", NOW + HOUR)  # renamed: their part is written
    assert member.name == "Ada L."
    assert member.last_seen == NOW + HOUR and member.first_seen == NOW
    assert not circles.returning(member, "Ada L.", NOW + 2 * HOUR)  # the same, seen today
    assert circle.member_by_device("device-Cy") is None  # a stranger to the circle
    new = arrive(circle, "device-Cy", "Cy", NOW)
    assert new.id not in ids.values()
    assert circle.member_by_device("device-Cy") is new and circle.members[new.id] is new
    # (A full circle refusing a new member is the store's step: tests/store.)


def test_bad_names_are_refused_before_anything_changes() -> None:
    circle, _ = circle_of("Ada")
    member = circle.member_by_device("device-Ada")
    assert member is not None
    # A copy: the members as they were, fields and all (a returning member is changed in place).
    before = (copy.deepcopy(circle.members), member.name, member.last_seen)
    for name in ("", "   ", "x" * 200, 12, "\u200b"):
        with pytest.raises(RitrovoError):
            circles.new_member("c9", "device-new", name, NOW)
        with pytest.raises(RitrovoError):  # the whole arrival: no member is added
            arrive(circle, "device-new", name, NOW)
        with pytest.raises(RitrovoError):
            circles.returning(member, name, NOW + HOUR)
        with pytest.raises(RitrovoError):
            arrive(circle, "device-Ada", name, NOW + HOUR)
    assert (dict(circle.members), member.name, member.last_seen) == before
    assert circle.member_by_device("device-new") is None
    with pytest.raises(RitrovoError):
        circles.new_circle("A" * 16, "", "h", NOW)


def test_shapes() -> None:
    assert circles.valid_id("AbCdEfGh12345_-x")
    for bad in ("short", "A" * 17, "A" * 15 + "!", None, 16, "../../../etc/pas"):
        assert not circles.valid_id(bad)
    assert circles.valid_token("t" * 22) and circles.valid_token("t" * 64)
    for bad in ("t" * 21, "t" * 65, "t" * 30 + " ", None, ""):
        assert not circles.valid_token(bad)


def test_the_circle_keeps_its_last_sessions_only() -> None:
    circle, ids = circle_of("Ada", "Bea")
    pair = [[ids["Ada"], ids["Bea"]]]
    for i in range(12):
        circles.record_session(
            circle, f"ROOM{i:02d}", started_at=NOW + i, seq=1, groups=pair, teams=[], keep=10
        )
    assert [s.room for s in circle.ordered_sessions()] == [f"ROOM{i:02d}" for i in range(2, 12)]


def test_an_older_record_never_replaces_a_newer_one_and_strangers_are_left_out() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy")
    a, b, c = ids["Ada"], ids["Bea"], ids["Cy"]
    assert circles.record_session(
        circle, "ROOM01", started_at=NOW, seq=5, groups=[[a, b, "gone"]], teams=[[c, "x"]]
    ) == [circles.SESSION + "ROOM01"]
    assert circle.sessions["ROOM01"].groups == [[a, b]]
    assert circle.sessions["ROOM01"].teams == []  # a team of one remembers no team-mate
    assert (
        circles.record_session(circle, "ROOM01", started_at=NOW, seq=4, groups=[[a, c]], teams=[])
        == []
    )
    assert circle.sessions["ROOM01"].groups == [[a, b]]


def test_pairing_in_a_circle_avoids_pairs_met_in_recent_sessions() -> None:
    """Six members met in pairs over two earlier sessions: the third session's pairing is fresh."""
    names = ["Ada", "Bea", "Cy", "Dee", "Eli", "Fay"]
    circle, ids = circle_of(*names)
    m = [ids[n] for n in names]
    circles.record_session(
        circle,
        "ROOM01",
        started_at=NOW,
        seq=1,
        groups=[[m[0], m[1]], [m[2], m[3]], [m[4], m[5]]],
        teams=[],
    )
    circles.record_session(
        circle,
        "ROOM02",
        started_at=NOW + HOUR,
        seq=1,
        groups=[[m[0], m[2]], [m[1], m[4]], [m[3], m[5]]],
        teams=[],
    )
    # The members in a new room, under new player ids.
    members = {f"p{i}": m[i] for i in range(6)}
    history = circles.pair_history(circle, "ROOM03", members)
    met = pairing.meetings(history)
    assert ("p0", "p1") in met and ("p0", "p2") in met and len(met) == 6
    for seed in range(40):
        groups = pairing.pair(list(members), history=history, teams={}, seed=seed)
        assert not pairing.meetings(groups) & met, (seed, groups)
    # The room's own session is not weighed twice (its rotations are the room's).
    assert circles.pair_history(circle, "ROOM02", members) == [
        ["p0", "p1"],
        ["p2", "p3"],
        ["p4", "p5"],
    ]
    # Forgotten sessions are not weighed: keep only the last one.
    circles.record_session(
        circle, "ROOM03", started_at=NOW + 2 * HOUR, seq=1, groups=[], teams=[[m[0], m[5]]], keep=1
    )
    assert circles.pair_history(circle, "ROOM04", members) == []
    assert circles.team_history(circle, "ROOM04", members) == [["p0", "p5"]]


def test_a_session_where_nobody_met_is_not_kept() -> None:
    """Groups and teams of one (or none) would only push the real history out."""
    circle, ids = circle_of("Ada", "Bea", "Cy")
    a, b = ids["Ada"], ids["Bea"]
    circles.record_session(circle, "ROOM01", started_at=NOW, seq=1, groups=[[a, b]], teams=[])
    for i in range(3):
        assert (
            circles.record_session(
                circle,
                f"ROOM1{i}",
                started_at=NOW + i + 1,
                seq=1,
                groups=[[a], [b, "gone"]],
                teams=[[ids["Cy"]]],
                keep=1,
            )
            == []
        )
    assert [s.room for s in circle.ordered_sessions()] == ["ROOM01"]


def test_forgetting_takes_the_device_index_too_and_idle_members_go_when_evicted() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy")
    circles.record_session(
        circle, "ROOM01", started_at=NOW, seq=1, groups=[[ids["Ada"], ids["Bea"]]], teams=[]
    )
    cy = circle.members[ids["Cy"]]
    assert circles.evict_idle(circle, NOW + 29 * 24 * HOUR, 30 * 24 * HOUR) == []
    assert circles.evict_idle(circle, NOW + 30 * 24 * HOUR, 30 * 24 * HOUR) == [
        circles.MEMBER + cy.id,
        circles.DEVICE + cy.device_hash,
    ]
    assert sorted(circle.members) == sorted([ids["Ada"], ids["Bea"]])


def test_without_the_circle_the_same_pairs_may_come_back() -> None:
    """The control: with no history, some seed pairs two people who met in the circle's sessions."""
    names = ["Ada", "Bea", "Cy", "Dee", "Eli", "Fay"]
    circle, ids = circle_of(*names)
    m = [ids[n] for n in names]
    circles.record_session(
        circle,
        "ROOM01",
        started_at=NOW,
        seq=1,
        groups=[[m[0], m[1]], [m[2], m[3]], [m[4], m[5]]],
        teams=[],
    )
    members = {f"p{i}": m[i] for i in range(6)}
    met = pairing.meetings(circles.pair_history(circle, "ROOM02", members))
    repeats = [
        seed
        for seed in range(40)
        if pairing.meetings(pairing.pair(list(members), history=[], teams={}, seed=seed)) & met
    ]
    assert repeats


def test_mixing_teams_in_a_circle_keeps_past_team_mates_apart() -> None:
    names = ["Ada", "Bea", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"]
    circle, ids = circle_of(*names)
    m = [ids[n] for n in names]
    circles.record_session(circle, "ROOM01", started_at=NOW, seq=1, groups=[], teams=[m[:4], m[4:]])
    members = {f"p{i}": m[i] for i in range(8)}
    history = circles.team_history(circle, "ROOM02", members)
    assert history == [["p0", "p1", "p2", "p3"], ["p4", "p5", "p6", "p7"]]
    for seed in range(20):
        teams = pairing.mix_teams(list(members), ["t1", "t2"], history=history, seed=seed)
        for roster in history:
            # Four former team-mates into two teams of four: two and two at best.
            assert sorted(sum(teams[p] == t for p in roster) for t in ("t1", "t2")) == [2, 2]


def test_forgetting_a_member_leaves_nothing_of_them() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy")
    a, b, c = ids["Ada"], ids["Bea"], ids["Cy"]
    circles.record_session(
        circle, "ROOM01", started_at=NOW, seq=1, groups=[[a, b], [a, b, c]], teams=[[a, c]]
    )
    about = circles.about(circle, a)
    assert about["sessions"] == [
        {
            "room": "ROOM01",
            "started_at": NOW,
            "name": "Ada",
            "met": ["Bea", "Cy"],
            "team_mates": ["Cy"],
        }
    ]
    changed = circles.forget(circle, a)
    assert set(changed) == {
        circles.MEMBER + a,
        circles.DEVICE + "device-Ada",
        circles.SESSION + "ROOM01",
    }
    assert a not in circle.members
    assert circle.sessions["ROOM01"].groups == [[b, c]]
    assert circle.sessions["ROOM01"].teams == []
    assert a not in repr(circles.export(circle))
    assert circles.forget(circle, a) == []
    # Their device is a stranger now: arriving again makes a new member.
    assert circle.member_by_device("device-Ada") is None
    member = arrive(circle, "device-Ada", "Ada", NOW)
    assert member.id != a
    assert member.id not in (b, c)  # (the store never hands an id out twice: tests/store)


def test_the_export_holds_no_token_or_hash() -> None:
    circle, _ = circle_of("Ada")
    text = repr(circles.export(circle))
    assert "h" * 64 not in text and "device-" not in text


def kept_keepsake(room: str, people: dict[str, str], met: dict[str, int]) -> dict[str, object]:
    """A keepsake as ``keepsake.for_circle`` makes it (people as member ids; ``people`` is
    member id -> name, only its ids are used): each member wrote one line of the story."""
    ids = list(people)
    return {
        "v": 2,
        "room": {
            "code": room,
            "name": "Coffee",
            "pack": None,
            "language": "en",
            "phase": "finished",
        },
        "podium": [{"rank": 1, "team": "Red", "score": 40, "players": [[m, 20] for m in ids]}],
        "stories": [
            {
                "round": "Tales",
                "stories": [
                    {
                        "team": "Red",
                        "writers": ids,
                        "theme": "",
                        "opening": "Once",
                        "lines": [
                            *({"text": f"{people[m]}'s line", "member": m} for m in ids),
                            {"hidden": True},
                        ],
                    }
                ],
            }
        ],
        "whoswho": [
            {
                "round": "Who",
                "prompt": "A hidden talent",
                "answer": f"{people[m]} juggles",
                "member": m,
                "team": "Red",
                "line": "",
            }
            for m in ids
        ],
        "colleagues": [[m, met[m]] for m in ids],
    }


def test_a_session_keeps_its_keepsake_and_the_names_of_then() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy")
    a, b, c = ids["Ada"], ids["Bea"], ids["Cy"]
    people = {a: "Ada", b: "Bea", c: "Cy", "c99": "Guest"}  # c99: not (or no longer) a member
    changed = circles.record_session(
        circle,
        "ROOM01",
        started_at=NOW,
        seq=5,
        groups=[[a, b, c]],
        teams=[],
        names={a: "Ada", b: "Bea", c: "Cy", "c99": "Guest"},
        keepsake=kept_keepsake("ROOM01", people, {a: 3, b: 3, c: 3, "c99": 3}),
    )
    assert set(changed) == {circles.SESSION + "ROOM01", circles.KEEPSAKE + "ROOM01"}
    assert circle.keepsakes is not None
    kept = copy.deepcopy(circle.keepsakes["ROOM01"])  # as it was: later records must keep it
    assert "Guest" not in repr(kept) and "c99" not in repr(kept)
    assert circle.sessions["ROOM01"].names == {a: "Ada", b: "Bea", c: "Cy"}
    # Ada comes back under another name: the session keeps the name she had.
    arrive(circle, "device-Ada", "Ada L.", NOW + HOUR)
    about = circles.about(circle, a)
    [session] = about["sessions"]
    assert session["name"] == "Ada" and session["met"] == ["Bea", "Cy"]
    assert session["keepsake"] == {
        "podium": {"rank": 1, "team": "Red", "score": 40, "points": 20},
        "stories": [{"round": "Tales", "team": "Red", "lines": ["Ada's line"]}],
        "whoswho": [
            {"round": "Who", "prompt": "A hidden talent", "answer": "Ada juggles", "line": ""}
        ],
        "met": 3,
    }
    # The export names people as they were named in the session (Ada, not Ada L.).
    exported = circles.export(circle)["sessions"][0]["keepsake"]
    assert exported["podium"][0]["players"][0] == {"member": a, "name": "Ada", "points": 20}
    assert exported["stories"][0]["stories"][0]["writers"] == [
        {"member": m, "name": n} for m, n in ((a, "Ada"), (b, "Bea"), (c, "Cy"))
    ]
    assert [f["author"] for f in exported["whoswho"]] == ["Ada", "Bea", "Cy"]
    assert exported["colleagues"][0] == {"member": a, "name": "Ada", "team": "Red", "met": 3}
    # The guest's line is masked as a hidden one: nobody could forget it on their behalf.
    lines = kept["stories"][0]["stories"][0]["lines"]
    assert lines[3] == {"hidden": True} and "Guest's line" not in repr(kept)
    # A later record without a keepsake (the room went on) keeps it, and the names it holds.
    changed = circles.record_session(
        circle, "ROOM01", started_at=NOW, seq=6, groups=[[a, b]], teams=[], names={a: "Ada"}
    )
    assert changed == [circles.SESSION + "ROOM01"]
    assert circle.keepsakes["ROOM01"] == kept
    assert circle.sessions["ROOM01"].names == {a: "Ada", b: "Bea", c: "Cy"}


def test_forgetting_a_member_takes_their_lines_out_of_every_keepsake() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy")
    a, b, c = ids["Ada"], ids["Bea"], ids["Cy"]
    people = {a: "Ada", b: "Bea", c: "Cy"}
    circles.record_session(
        circle,
        "ROOM01",
        started_at=NOW,
        seq=1,
        groups=[[a, b]],
        teams=[],
        names=people,
        keepsake=kept_keepsake("ROOM01", people, {a: 2, b: 2, c: 2}),
    )
    changed = circles.forget(circle, a)
    assert circles.KEEPSAKE + "ROOM01" in changed
    assert circle.keepsakes is not None
    kept = circle.keepsakes["ROOM01"]
    assert a not in repr(kept) and "Ada" not in repr(kept)
    assert a not in circle.sessions["ROOM01"].names
    # What is not hers stays: the team's score, the others' lines and counts; her line is
    # masked as a hidden one (the story keeps its length).
    assert kept["podium"][0]["score"] == 40 and kept["podium"][0]["players"] == [[b, 20], [c, 20]]
    assert kept["stories"][0]["stories"][0]["lines"] == [
        {"hidden": True},
        {"text": "Bea's line", "member": b},
        {"text": "Cy's line", "member": c},
        {"hidden": True},
    ]
    assert kept["stories"][0]["stories"][0]["writers"] == [b, c]
    assert kept["colleagues"] == [[b, 2], [c, 2]]
    assert [f["member"] for f in kept["whoswho"]] == [b, c]
    assert circles.about(circle, b)["sessions"][0]["keepsake"]["stories"][0]["lines"] == [
        "Bea's line"
    ]
    # Forgetting needs the keepsakes: a circle loaded without them refuses.
    circle.keepsakes = None
    with pytest.raises(ValueError):
        circles.forget(circle, b)
    assert b in circle.members


def test_a_dropped_session_takes_its_keepsake_along() -> None:
    circle, ids = circle_of("Ada", "Bea")
    a, b = ids["Ada"], ids["Bea"]
    people = {a: "Ada", b: "Bea"}
    for n in range(3):
        changed = circles.record_session(
            circle,
            f"ROOM0{n}",
            started_at=NOW + n,
            seq=1,
            groups=[[a, b]],
            teams=[],
            names=people,
            keepsake=kept_keepsake(f"ROOM0{n}", people, {a: 1, b: 1}),
            keep=2,
        )
    assert circles.KEEPSAKE + "ROOM00" in changed and circles.SESSION + "ROOM00" in changed
    assert circle.keepsakes is not None and sorted(circle.keepsakes) == ["ROOM01", "ROOM02"]


def test_new_colleagues_leave_out_those_met_in_earlier_sessions() -> None:
    circle, ids = circle_of("Ada", "Bea", "Cy", "Dee")
    a, b, c, d = (ids[n] for n in ("Ada", "Bea", "Cy", "Dee"))
    circles.record_session(circle, "ROOM01", started_at=NOW, seq=1, groups=[[a, b]], teams=[[c, d]])
    # A later session: Ada meets Bea again and Cy for the first time; Dee meets Cy again.
    people = {a: "Ada", b: "Bea", c: "Cy", d: "Dee"}
    circles.record_session(
        circle,
        "ROOM02",
        started_at=NOW + HOUR,
        seq=1,
        groups=[[a, b, c]],
        teams=[[c, d]],
        names=people,
        keepsake=kept_keepsake("ROOM02", people, {a: 2, b: 2, c: 3, d: 1}),
    )
    assert circle.keepsakes is not None
    counts = dict(circle.keepsakes["ROOM02"]["colleagues"])
    assert counts == {a: 1, b: 1, c: 2, d: 0}
    # The same history for a room's live keepsake, as its player ids.
    members = {"p1": a, "p2": b, "p3": c, "p4": d}
    known = circles.for_players(circles.known_before(circle, "ROOM02", NOW + HOUR), members)
    pairs = {(p, q) for p in members for q in members if known.knows(p, q)}
    assert pairs == {("p1", "p2"), ("p2", "p1"), ("p3", "p4"), ("p4", "p3")}
    assert not known.knows("guest", "p1") and not known.knows("p1", "guest")
    # The first session has nothing before it; nor does a room opened before both.
    assert circles.known_before(circle, "ROOM01", NOW).masks == {}
    assert circles.known_before(circle, "ROOM00", NOW - HOUR).masks == {}


def test_new_colleagues_of_a_big_circle_are_counted_across_turning_teams() -> None:
    """500 members in two teams of 250, ten sessions: who met whom before
    (``known_before``, ``record_session``'s counts) follows the teams as they turn.
    It goes by bit masks, O(the rosters' sizes): sets of whom each met cost the
    rosters' squares (0.18-0.64 s per count). Timing is for benchmarks, not here."""
    people = [f"P{n}" for n in range(500)]
    circle, ids = circle_of(*people)
    members = [ids[p] for p in people]
    for n in range(9):
        half = members[n:] + members[:n]
        circles.record_session(
            circle,
            f"ROOM0{n}",
            started_at=NOW + n,
            seq=1,
            groups=[],
            teams=[half[:250], half[250:]],
        )
    counts = {m: 499 for m in members}
    kept = kept_keepsake("ROOM09", {m: "x" for m in members}, counts)
    known = circles.known_before(circle, "ROOM09", NOW + 9)
    circles.record_session(
        circle,
        "ROOM09",
        started_at=NOW + 9,
        seq=1,
        groups=[],
        teams=[members[:250], members[250:]],
        keepsake=kept,
    )
    assert known.knows(members[0], members[249]) and known.knows(members[0], members[258])
    assert circle.keepsakes is not None
    # members[0] met members[1:250] in ROOM00, then others as the teams turned: everyone
    # on their team today they met before; none of those across.
    met = dict(circle.keepsakes["ROOM09"]["colleagues"])
    assert met[members[0]] == 499 - 249


def _first_shape_keepsake() -> dict[str, object]:
    """A keepsake as the first shape stored it: names beside ids, lines without their writer.
    Ada wrote a line, then left the room before its end: she is in none of its lists."""
    return {
        "room": {"code": "R1", "name": "n", "pack": None, "language": "en", "phase": "finished"},
        "podium": [
            {
                "rank": 1,
                "team": "Red",
                "score": 3,
                "players": [{"member": "c2", "name": "Bea", "points": 1}],
            }
        ],
        "stories": [
            {
                "round": "T",
                "stories": [
                    {
                        "team": "Red",
                        "writers": [{"member": "c2", "name": "Bea"}],
                        "theme": "",
                        "opening": "o",
                        "lines": [{"text": "Ada's secret line"}, {"text": "Bea's line"}],
                    }
                ],
            }
        ],
        "whoswho": [],
        "colleagues": [{"member": "c2", "name": "Bea", "team": "Red", "met": 1}],
    }


def test_a_write_that_loaded_the_keepsakes_rewrites_those_of_the_first_shape() -> None:
    """Forgetting Ada changed no keepsake she is named in (the first shape names nobody on a
    line), so her line stayed in the store as written: it is rewritten, masked, with any
    write that loaded the keepsakes (forgetting, evicting)."""
    circle, ids = circle_of("Ada", "Bea", "Cy", "Dan")
    circles.record_session(
        circle, "R1", started_at=NOW, seq=5, groups=[[ids["Bea"], ids["Cy"]]], teams=[]
    )
    circles.load_keepsake(circle, "R1", _first_shape_keepsake())
    circles.load_keepsake(circle, "R2", circles.upgrade_keepsake(_first_shape_keepsake()))
    assert circle.stale_keepsakes == {"R1"}  # R2 is in the current shape
    changed = circles.forget(circle, ids["Ada"])
    assert circles.KEEPSAKE + "R1" in changed and circles.KEEPSAKE + "R2" not in changed
    assert circle.keepsakes is not None and "secret" not in repr(circle.keepsakes["R1"])
    assert circle.keepsakes["R1"]["v"] == 2 and not circle.stale_keepsakes
    # Evicting an idle member (Dan) rewrites them too; a forget that finds nobody writes nothing.
    circles.load_keepsake(circle, "R1", _first_shape_keepsake())
    assert circles.forget(circle, "c999") == []
    changed = circles.evict_idle(circle, NOW + 100 * 24 * HOUR, 30 * 24 * HOUR)
    assert circles.MEMBER + ids["Dan"] in changed and circles.KEEPSAKE + "R1" in changed
