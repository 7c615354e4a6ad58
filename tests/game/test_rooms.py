"""Lobby rules as plain Python: no network, no aiohttp, no Redis."""

from __future__ import annotations

import orjson
import pytest
from ritrovo.errors import BadRequest, Conflict, LimitExceeded, NotFound, RitrovoError
from ritrovo.game import rooms
from ritrovo.game.models import Room
from ritrovo.store.codec import decode_room, encode_room

NOW = 1_000.0


def make_room(**kwargs: object) -> Room:
    return rooms.new_room("ABC234", "Venerdì", "hosthash", NOW, **kwargs)  # type: ignore[arg-type]


def test_new_room_has_default_teams_and_is_in_lobby() -> None:
    room = make_room()
    assert [t.name for t in room.teams] == list(rooms.DEFAULT_TEAM_NAMES)
    assert room.phase == "lobby" and not room.locked and room.players == {}


def test_join_fills_the_smallest_team_then_the_first() -> None:
    room = make_room()
    a = rooms.join(room, name="Ada", team_id=None, token_hash="ta", now=NOW)
    b = rooms.join(room, name="Bob", team_id=None, token_hash="tb", now=NOW)
    c = rooms.join(room, name="Cy", team_id=None, token_hash="tc", now=NOW)
    assert (a.team_id, b.team_id, c.team_id) == ("t1", "t2", "t1")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "empty_name"),
        ("   \t ", "empty_name"),
        ("x" * 33, "name_too_long"),
        ("a\x00b", "invalid_name"),
        ("a\u2028b", "invalid_name"),
        (None, "invalid_field"),
        (["Ada"], "invalid_field"),
    ],
)
def test_bad_names_are_refused_and_change_nothing(name: object, code: str) -> None:
    room = make_room()
    before = encode_room(room)
    with pytest.raises(RitrovoError) as err:
        rooms.join(room, name=name, team_id=None, token_hash="t", now=NOW)
    assert err.value.code == code
    assert encode_room(room) == before


def test_names_are_trimmed_normalised_and_unique_ignoring_case() -> None:
    room = make_room()
    ada = rooms.join(room, name="  Nicolò   Rossi ", team_id=None, token_hash="t1", now=NOW)
    assert ada.name == "Nicolò Rossi"
    with pytest.raises(Conflict) as err:
        rooms.join(room, name="NICOLÒ ROSSI", team_id=None, token_hash="t2", now=NOW)
    assert err.value.code == "name_taken"


def test_room_capacity_and_lock() -> None:
    room = make_room(max_players=1)
    rooms.join(room, name="Ada", team_id=None, token_hash="t1", now=NOW)
    with pytest.raises(LimitExceeded):
        rooms.join(room, name="Bob", team_id=None, token_hash="t2", now=NOW)
    room = make_room()
    rooms.set_locked(room, True)
    with pytest.raises(Conflict) as err:
        rooms.join(room, name="Bob", team_id=None, token_hash="t2", now=NOW)
    assert err.value.code == "room_locked"


def test_presence_has_a_grace_period() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="t", now=NOW)
    rooms.connect(room, ada, NOW)
    rooms.disconnect(room, ada.id, NOW + 10)
    assert rooms.is_present(ada, NOW + 10 + rooms.PRESENCE_GRACE_SECONDS - 0.1)
    assert not rooms.is_present(ada, NOW + 10 + rooms.PRESENCE_GRACE_SECONDS)
    assert rooms.presence_deadline(room, NOW + 11) == NOW + 10 + rooms.PRESENCE_GRACE_SECONDS
    assert ada.id in room.players  # away, not removed


def test_kicked_token_is_refused() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="tada", now=NOW)
    rooms.kick(room, ada.id, NOW)
    with pytest.raises(Conflict) as err:
        rooms.player_by_token(room, "tada")
    assert err.value.code == "kicked"
    with pytest.raises(NotFound):
        rooms.player_by_token(room, "never-issued")


def test_team_management() -> None:
    room = make_room()
    team = rooms.create_team(room, "Gatti")
    rooms.rename_team(room, team.id, "Gatti neri")
    assert room.team(team.id).name == "Gatti neri"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        rooms.create_team(room, "gatti NERI")
    ada = rooms.join(room, name="Ada", team_id=team.id, token_hash="t", now=NOW)
    rooms.delete_team(room, team.id)
    assert ada.team_id in {t.id for t in room.teams}
    rooms.delete_team(room, "t2")
    with pytest.raises(Conflict) as err:
        rooms.delete_team(room, "t1")
    assert err.value.code == "last_team"
    with pytest.raises(NotFound):
        rooms.move_player(room, ada.id, "t99")
    with pytest.raises(BadRequest):
        rooms.set_locked(room, "yes")


def test_closed_room_refuses_everything() -> None:
    room = make_room()
    rooms.close(room, NOW)
    for action in (
        lambda: rooms.join(room, name="Ada", team_id=None, token_hash="t", now=NOW),
        lambda: rooms.create_team(room, "X"),
        lambda: rooms.set_locked(room, True),
        lambda: rooms.close(room, NOW),
    ):
        with pytest.raises(Conflict) as err:
            action()
        assert err.value.code == "room_closed"


def test_room_round_trips_through_json() -> None:
    room = make_room()
    rooms.join(room, name="Zoë", team_id=None, token_hash="t", now=NOW)
    again = decode_room(encode_room(room))
    assert again == room
    assert orjson.loads(encode_room(room))["players"]["p3"]["name"] == "Zoë"


def test_a_dead_process_takes_its_connections_with_it() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="ta", now=NOW)
    bob = rooms.join(room, name="Bob", team_id=None, token_hash="tb", now=NOW)
    rooms.connect(room, ada, NOW, "proc-a")
    rooms.connect(room, ada, NOW, "proc-b")  # a second tab, on another process
    rooms.connect(room, bob, NOW, "proc-a")
    assert rooms.drop_process(room, "proc-a", NOW + 1)
    assert (ada.connections, bob.connections) == (1, 0)
    assert ada.links == {"proc-b": 1} and bob.links == {}
    assert bob.last_seen == NOW + 1 and rooms.is_present(ada, NOW + 100)
    assert not rooms.is_present(bob, NOW + 1 + rooms.PRESENCE_GRACE_SECONDS)
    assert not rooms.drop_process(room, "proc-a", NOW + 2)  # nothing left to drop
    rooms.disconnect(room, ada.id, NOW + 3, "proc-b")
    assert ada.connections == 0 and ada.links == {}


def test_a_process_taken_for_dead_puts_its_live_connections_back() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="ta", now=NOW)
    bob = rooms.join(room, name="Bob", team_id=None, token_hash="tb", now=NOW)
    rooms.connect(room, ada, NOW, "proc-a")
    rooms.connect(room, ada, NOW, "proc-b")
    rooms.connect(room, bob, NOW, "proc-a")
    rooms.drop_process(room, "proc-a", NOW + 1)
    # proc-a was frozen, not dead: Ada has one socket there, Bob's closed meanwhile.
    assert rooms.restore_process(room, "proc-a", {ada.id: 1, "gone": 2}, NOW + 9)
    assert (ada.connections, ada.links) == (2, {"proc-b": 1, "proc-a": 1})
    assert (bob.connections, bob.links) == (0, {})
    assert rooms.is_present(ada, NOW + 100) and ada.id not in room.grace_ends
    assert not rooms.restore_process(room, "proc-a", {ada.id: 1}, NOW + 10)  # nothing to put back
    rooms.disconnect(room, ada.id, NOW + 11, "proc-a")  # its goodbye counts again
    assert (ada.connections, ada.links) == (1, {"proc-b": 1})


@pytest.mark.parametrize(
    "name",
    ["\u200b", "A\u200bda", "\u202eadA", "Ada\u2066", "\u00ad", "\u0301\u0301"],
)
def test_invisible_and_direction_changing_names_are_refused(name: str) -> None:
    room = make_room()
    with pytest.raises(BadRequest):
        rooms.join(room, name=name, team_id=None, token_hash="t", now=NOW)
    assert room.players == {}


def test_emoji_sequences_with_joiners_are_welcome() -> None:
    room = make_room()
    family = "\U0001f469\u200d\U0001f4bb Ada"
    assert rooms.join(room, name=family, team_id=None, token_hash="t", now=NOW).name == family


def test_a_late_goodbye_from_a_dropped_process_is_ignored() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="ta", now=NOW)
    rooms.connect(room, ada, NOW, "proc-a")
    rooms.connect(room, ada, NOW, "proc-b")
    rooms.drop_process(room, "proc-a", NOW + 1)
    rooms.disconnect(room, ada.id, NOW + 2, "proc-a")  # proc-a was alive after all
    assert ada.connections == 1 and ada.links == {"proc-b": 1}
