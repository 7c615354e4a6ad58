"""Names compared as people read them (issue 12): display forms, comparison keys, refusals."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from ritrovo.errors import BadRequest, Conflict, RitrovoError
from ritrovo.game import confusables, names, rooms
from ritrovo.game.models import Player, Room
from ritrovo.store.codec import encode_room

NOW = 1_000.0

# Every one reads as "Ada".
ADA_LOOKALIKES = [
    "ADA",
    "ada",
    "\u0410da",  # Cyrillic capital A
    "Ad\u0430",  # Cyrillic small a
    "\uff21\uff44\uff41",  # fullwidth
    "A\u200dda",  # zero-width joiner between Latin letters
    "Ada\u200d",
    "Ada\u034f",  # combining grapheme joiner
    "A\u034fda",
    "Ada\ufe0f",  # variation selector after a letter
    "\U0001d400da",  # mathematical bold A
    "Ada\u3164",  # trailing Hangul filler
    "\u2800Ada\u2800",  # braille blanks around it
    " Ada ",
    "\u0391da",  # Greek capital alpha
]


PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a zero-width non-joiner


def make_room() -> Room:
    return rooms.new_room("ABC234", "Venerdì", "hosthash", NOW)


def join(room: Room, name: object, token: str = "t") -> str:
    return rooms.join(room, name=name, team_id=None, token_hash=token, now=NOW).name


@pytest.mark.parametrize("lookalike", ADA_LOOKALIKES)
def test_every_lookalike_of_ada_has_adas_key(lookalike: str) -> None:
    assert names.comparison_key(lookalike) == names.comparison_key("Ada")


@pytest.mark.parametrize("lookalike", ADA_LOOKALIKES)
def test_a_lookalike_of_a_player_in_the_room_is_taken_and_changes_nothing(lookalike: str) -> None:
    room = make_room()
    join(room, "Ada", "t-ada")
    before = encode_room(room)
    with pytest.raises(Conflict) as err:
        join(room, lookalike)
    assert err.value.code == "name_taken"
    assert encode_room(room) == before


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Niccolò", "Niccolò"),
        ("Nicco\u0300lo", "Nicco\u0300lo"),  # NFC: the same "Niccòlo", composed
        ("D'Angelo", "D'Angelo"),
        ("D\u2019Angelo", "D\u2019Angelo"),
        ("Zoë", "Zoë"),
        ("  Anna   Maria  ", "Anna Maria"),
        ("Anna\u00a0Maria", "Anna Maria"),  # a no-break space is a space
        ("Anna\u2800\u2800Maria", "Anna Maria"),  # braille blanks read as one space
        ("A\u200dda", "Ada"),
        ("Ada\u034f", "Ada"),
        ("Ａｄａ", "Ａｄａ"),  # shown as typed, compared as "ada"
        ("\U0001f469\u200d\U0001f4bb Ada", "\U0001f469\u200d\U0001f4bb Ada"),  # emoji ZWJ
        ("\u2764\ufe0f Ada", "\u2764\ufe0f Ada"),  # emoji presentation selector
        (PERSIAN, PERSIAN),  # the non-joiner shapes Persian letters
        ("\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),  # Devanagari: ZWJ after virama
    ],
)
def test_display_form_keeps_what_shows_and_drops_what_does_nothing(typed: str, shown: str) -> None:
    assert names.display_form(typed) == unicodedata.normalize("NFC", shown)
    room = make_room()
    assert join(room, typed) == unicodedata.normalize("NFC", shown)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Zoë", "Zoe"),  # diacritics are read: TR39 skeletons keep them
        ("Niccolò", "Niccolo"),
        ("Nicolò Rossi", "Nicola Rossi"),
        ("Anna Maria", "AnnaMaria"),
        ("Ada", "Ida"),
        ("Ada", "Ada 2"),
    ],
)
def test_names_people_read_as_different_stay_different(one: str, other: str) -> None:
    assert names.comparison_key(one) != names.comparison_key(other)
    room = make_room()
    join(room, one, "t1")
    assert join(room, other, "t2") == other


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("D'Angelo", "D\u2019Angelo"),  # apostrophe shapes
        ("D'Angelo", "D\u00b4Angelo"),  # acute accent typed as an apostrophe
        ("Zoë", "Zoe\u0308"),  # composed and decomposed
        ("ZOË", "zoë"),
        ("Pa\u0443l", "Payl"),  # Cyrillic u
        ("\u0410rnie", "Arnie"),  # Cyrillic A
        ("A\u217fie", "Amie"),  # small roman numeral one thousand, an m
    ],
)
def test_names_people_read_as_the_same_collide(one: str, other: str) -> None:
    assert names.comparison_key(one) == names.comparison_key(other)


@pytest.mark.parametrize(
    "name",
    [
        "\u2800",  # braille pattern blank
        "\u2800\u2800\u2800",
        "\u3164",  # Hangul filler
        "\uffa0",  # halfwidth Hangul filler
        "\u115f",  # Hangul choseong filler
        "\u1160",
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u200c\u200d",
        "\u034f",  # combining grapheme joiner
        "\ufe0f",
        "\u00ad",  # soft hyphen
        "\u2060",  # word joiner
        "\ufeff",
        "\u0301",  # a combining mark alone
        "\u3000\u2800\u3164",  # ideographic space and blanks
    ],
)
def test_a_name_of_only_invisible_characters_is_refused_and_changes_nothing(name: str) -> None:
    room = make_room()
    join(room, "Ada", "t-ada")
    before = encode_room(room)
    with pytest.raises(BadRequest) as err:
        join(room, name)
    assert err.value.code == "invalid_name"
    assert encode_room(room) == before


def test_whitespace_alone_is_still_an_empty_name() -> None:
    room = make_room()
    with pytest.raises(BadRequest) as err:
        join(room, " \t\u00a0 ")
    assert err.value.code == "empty_name"


def test_a_raw_name_far_longer_than_the_limit_is_refused_before_it_is_read() -> None:
    room = make_room()
    before = encode_room(room)
    with pytest.raises(BadRequest) as err:
        join(room, "Ada" + "\u200d" * (rooms.RAW_NAME_FACTOR * rooms.NAME_MAX_CHARS))
    assert err.value.code == "name_too_long"
    assert join(room, "Ada" + "\u200d" * 40) == "Ada"  # invisible extras are dropped
    assert encode_room(room) != before


@pytest.mark.parametrize(
    "action",
    [
        lambda room: rooms.create_team(room, "\u0410urora"),  # Cyrillic A
        lambda room: rooms.create_team(room, "ＢＯＲＡ"),
        lambda room: rooms.create_team(room, "Bo\u200dra"),
        lambda room: rooms.rename_team(room, "t2", "aurora\u034f"),
    ],
)
def test_team_names_are_compared_the_same_way(action: Callable[[Room], object]) -> None:
    room = make_room()
    before = encode_room(room)
    with pytest.raises(Conflict) as err:
        action(room)
    assert err.value.code == "team_name_taken"
    assert encode_room(room) == before


def test_team_names_refuse_invisible_names_and_keep_their_own_name() -> None:
    room = make_room()
    before = encode_room(room)
    actions: list[Callable[[], object]] = [
        lambda: rooms.create_team(room, "\u2800"),
        lambda: rooms.rename_team(room, "t1", "\u3164"),
    ]
    for action in actions:
        with pytest.raises(RitrovoError) as err:
            action()
        assert err.value.code == "invalid_team_name"
        assert encode_room(room) == before
    assert rooms.rename_team(room, "t1", "AURORA").name == "AURORA"  # its own name, recased


def test_a_name_frees_its_key_when_the_player_leaves() -> None:
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="t1", now=NOW)
    rooms.leave(room, ada.id, NOW)
    assert join(room, "\u0410da", "t2") == "\u0410da"


def test_a_room_stored_with_lookalikes_keeps_refusing_after_one_leaves() -> None:
    # Rooms stored before this rule may hold two players with one key.
    room = make_room()
    ada = rooms.join(room, name="Ada", team_id=None, token_hash="t1", now=NOW)
    twin = Player(id="p9", name="\u0410da", team_id="t1", token_hash="t9", joined_at=NOW)
    room.players[twin.id] = twin
    rooms.player_replaced(room, None, twin)
    rooms.leave(room, twin.id, NOW)
    with pytest.raises(Conflict):
        join(room, "ADA", "t3")
    rooms.leave(room, ada.id, NOW)
    assert join(room, "ADA", "t3") == "ADA"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Arnie", "Amie"),  # UTS #39 reads rn as m: real names must stay apart
        ("Burns", "Bums"),
        ("Bob", "B0b"),  # ASCII letters and digits keep their identity
        ("Alex", "A1ex"),
    ],
)
def test_plain_ascii_names_are_not_confused(one: str, other: str) -> None:
    assert names.comparison_key(one) != names.comparison_key(other)


def test_the_generated_table_is_the_one_described() -> None:
    table = names.parse_prototypes(confusables.PROTOTYPES)
    assert confusables.UNICODE_VERSION.count(".") == 2 and len(confusables.SOURCE_SHA256) == 64
    assert table[ord("0")] == "O" and table[ord("1")] == "l" and table[ord("m")] == "rn"
    assert table[0x0430] == "a"  # Cyrillic small a
    assert ord("a") not in table and ord("\u0308") not in table  # prototypes map to nothing


def test_every_bmp_key_settles_within_the_rounds_allowed() -> None:
    # scripts/gen_confusables.py checks every code point on the generating Python;
    # this is the same check over the BMP on the Python that runs the tests.
    skeleton = names._skeleton()
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        _, rounds = skeleton.key_and_rounds(chr(cp))
        assert rounds < names.MAX_ROUNDS, f"U+{cp:04X}"
